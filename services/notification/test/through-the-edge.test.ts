// The links in identity's emails, used the way a storefront uses them: through the edge's JSON API
// (Connect JSON over HTTP/1.1), with this service's own methods on the edge's surface.
import test from "ava";
import { createLogger, createTokenVerifier } from "@bazaar/platform";
import { passingInConsul, perFile, uniqueName } from "@bazaar/platform/testing";
import { createEdge } from "@bazaar/edge";
import { eventually, linkIn, newEmail, startIdentityService, startNotificationService, STOREFRONT, strongPassword, tokenOf } from "./helpers.ts";
import { startMailpit } from "./mailpit.ts";

const stack = perFile(test, async (teardown) => {
  const mailpit = await startMailpit();
  teardown(() => mailpit.stop());
  const identity = await startIdentityService();
  teardown(() => identity.stop());
  const notification = await startNotificationService({ mailpit, verifier: identity.verifier });
  teardown(() => notification.stop());
  const consulAddr = notification.service.runtime.config.CONSUL_HTTP_ADDR;
  // The edge routes only to instances Consul lists as passing.
  for (const name of [identity.name, notification.name]) await passingInConsul(name, { consulAddr });
  const jwksUrl = `http://${identity.service.address}/.well-known/jwks.json`;
  const edge = createEdge({
    logger: createLogger({ service: "edge", level: "silent" }),
    verifier: createTokenVerifier({ jwksUrl, issuer: "bazaar-identity", audience: "bazaar" }),
    consulAddr,
    upstreams: { identity: identity.name, notification: notification.name },
    jwksUrl,
    rateLimitsKey: `bazaar/edge-test/${uniqueName("limits")}`,
  });
  teardown(() => edge.close());
  const { port } = await edge.listen();
  const url = `http://127.0.0.1:${port}`;
  const call = async (method: string, body: unknown, token?: string) => {
    const response = await fetch(`${url}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  return { mailpit, call };
});

test("the verification and reset links from the emails verify and reset through the edge; the user's log is theirs through it too", async (t) => {
  const { mailpit, call } = stack();
  const email = newEmail("edge");
  const registered = await call("bazaar.identity.v1.IdentityService/Register", { email, password: strongPassword(), displayName: "Edge User" });
  t.is(registered.status, 200);

  const [verification] = await mailpit.waitFor(email, 1);
  const verified = await call("bazaar.identity.v1.IdentityService/VerifyEmail", { token: tokenOf(linkIn(verification!.Text, `${STOREFRONT}/verify-email?token=`)) });
  t.is(verified.status, 200);
  t.true(verified.body.user.emailVerified);

  t.is((await call("bazaar.identity.v1.IdentityService/RequestPasswordReset", { email })).status, 200);
  const reset = await eventually("the reset email", async () => (await mailpit.waitFor(email, 2)).find((mail) => mail.Subject === "Reset your Bazaar password"));
  const newPassword = strongPassword();
  const completed = await call("bazaar.identity.v1.IdentityService/CompletePasswordReset", { token: tokenOf(linkIn(reset.Text, `${STOREFRONT}/reset-password?token=`)), newPassword });
  t.is(completed.status, 200);
  const login = await call("bazaar.identity.v1.IdentityService/Login", { email, password: newPassword });
  t.is(login.status, 200, "the new password signs in");

  const token = login.body.tokens.accessToken as string;
  const log = await eventually("three messages in the user's log", async () => {
    const listed = await call("bazaar.notification.v1.NotificationService/ListMyNotifications", {}, token);
    return listed.status === 200 && (listed.body.notifications ?? []).length === 3 ? listed.body.notifications : undefined;
  });
  t.deepEqual(log.map((n: { template: string }) => n.template).sort(), ["email-verification", "password-reset", "security-notice"]);
  t.is((await call("bazaar.notification.v1.NotificationService/ListMyNotifications", {})).status, 401, "not without signing in");
  t.is((await call("bazaar.notification.v1.NotificationService/ListNotifications", {}, token)).status, 403, "the staff log is for staff");
});
