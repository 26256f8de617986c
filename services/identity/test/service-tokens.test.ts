// IssueServiceToken: services of the mesh get access tokens with their client secret — verified by
// the platform's verifier as service principals — and everything else gets one UNAUTHENTICATED answer.
import { Code } from "@connectrpc/connect";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import test from "ava";
import { createHash } from "node:crypto";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { ConfigError, createTokenVerifier, DEVELOPMENT_SEALING_PUBLIC_KEY, DEVELOPMENT_SERVICE_CLIENT_SECRET, loadConfig } from "@bazaar/platform";
import { failure } from "@bazaar/platform/testing";
import { identityConfigSchema } from "../src/index.ts";
import { startIdentity, type StartedIdentity } from "./helpers.ts";

const orderSecret = "order-secret-0123456789abcdef";
const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

let development: StartedIdentity;
let configured: StartedIdentity;
test.before(async () => {
  [development, configured] = await Promise.all([
    startIdentity(),
    // As in production: only the listed services, each with its own secret.
    startIdentity({ IDENTITY_SERVICE_CLIENTS: `order=${sha256(orderSecret)}, cart=${sha256("cart-secret-0123456789abcdef")}` }),
  ]);
});
test.after.always(async () => {
  await Promise.all([development?.stop(), configured?.stop()]);
});

/** The platform's verifier, reading this identity's published JWKS like every other service does. */
function verifierOf(identityService: StartedIdentity) {
  return createTokenVerifier({ jwksUrl: `http://${identityService.service.address}/.well-known/jwks.json`, issuer: "bazaar-identity", audience: "bazaar" });
}


test("a service token verifies with the platform's verifier as a service principal named after the service, without roles", async (t) => {
  const { accessToken, expireTime } = await development.client().issueServiceToken({ service: "order", clientSecret: DEVELOPMENT_SERVICE_CLIENT_SECRET });
  const principal = await verifierOf(development).verify(accessToken);
  t.is(principal.kind, "service");
  t.is(principal.subject, "order");
  t.deepEqual(principal.roles, []);

  t.is(decodeProtectedHeader(accessToken).typ, "at+jwt");
  const claims = decodeJwt(accessToken);
  t.is(claims.svc, true);
  t.is(claims.roles, undefined);
  t.is(claims.sid, undefined);
  t.is(claims.iss, "bazaar-identity");
  t.is(claims.aud, "bazaar");
  t.is(typeof claims.jti, "string");
  t.is(claims.exp! - claims.iat!, 900, "the access-token lifetime");
  t.is(timestampDate(expireTime!).getTime(), claims.exp! * 1000);
});

test("a wrong secret, an empty secret and an unknown service all get the same UNAUTHENTICATED answer", async (t) => {
  const answers = await Promise.all([
    failure(configured.client().issueServiceToken({ service: "order", clientSecret: "order-secret-0123456789abcdeF" })),
    failure(configured.client().issueServiceToken({ service: "order", clientSecret: "" })),
    failure(configured.client().issueServiceToken({ service: "payment", clientSecret: orderSecret })),
    failure(configured.client().issueServiceToken({ service: "payment", clientSecret: DEVELOPMENT_SERVICE_CLIENT_SECRET })),
    failure(development.client().issueServiceToken({ service: "order", clientSecret: "not-the-development-secret" })),
  ]);
  for (const answer of answers) {
    t.deepEqual(answer, { code: Code.Unauthenticated, message: "unknown service or wrong client secret", reason: "INVALID_CLIENT", fields: [] });
  }
});

test("with IDENTITY_SERVICE_CLIENTS only the listed services get tokens, each with its own secret, and the development secret stops working", async (t) => {
  const { accessToken } = await configured.client().issueServiceToken({ service: "order", clientSecret: orderSecret });
  t.is(decodeJwt(accessToken).sub, "order");
  const principal = await verifierOf(configured).verify(accessToken);
  t.is(principal.kind, "service");
  t.is((await failure(configured.client().issueServiceToken({ service: "order", clientSecret: DEVELOPMENT_SERVICE_CLIENT_SECRET })))?.code, Code.Unauthenticated);
  t.is((await failure(configured.client().issueServiceToken({ service: "cart", clientSecret: orderSecret })))?.code, Code.Unauthenticated);
});

test("an empty or malformed service name is INVALID_ARGUMENT naming service", async (t) => {
  for (const service of ["", "Order", "order_service", "order.v1", "x".repeat(64)]) {
    const answer = await failure(development.client().issueServiceToken({ service, clientSecret: DEVELOPMENT_SERVICE_CLIENT_SECRET }));
    t.is(answer?.code, Code.InvalidArgument, service);
    t.deepEqual(answer?.fields, ["service"], service);
  }
});

test("IDENTITY_SERVICE_CLIENTS must list name=sha256hex pairs; identity itself needs no SERVICE_CLIENT_SECRET in production", (t) => {
  const production = {
    DATABASE_URL: "postgres://u@db:5432/x",
    NATS_URL: "nats://nats:4222",
    IDENTITY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    IDENTITY_EMAIL_TOKEN_SEALING_KEY: DEVELOPMENT_SEALING_PUBLIC_KEY,
  };
  const config = loadConfig(identityConfigSchema, { ...production, IDENTITY_SERVICE_CLIENTS: `order=${sha256(orderSecret)}` });
  t.deepEqual([...config.IDENTITY_SERVICE_CLIENTS!.keys()], ["order"]);
  t.is(config.SERVICE_CLIENT_SECRET, undefined);
  for (const bad of ["order", `order=${sha256("x").slice(1)}`, `Order=${sha256("x")}`, `order=${sha256("x")},order=${sha256("y")}`]) {
    const error = t.throws(() => loadConfig(identityConfigSchema, { ...production, IDENTITY_SERVICE_CLIENTS: bad }), { instanceOf: ConfigError }, bad);
    t.deepEqual(error?.problems.map((p) => p.variable), ["IDENTITY_SERVICE_CLIENTS"], bad);
  }
});
