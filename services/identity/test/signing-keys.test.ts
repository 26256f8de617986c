// Signing-key rotation that logs nobody out, through a real identity service; the JWKS both as an
// RPC and as the HTTP document other services fetch.
import { Code, ConnectError } from "@connectrpc/connect";
import { decodeProtectedHeader } from "jose";
import test from "ava";
import { createTokenVerifier } from "@bazaar/platform";
import { eventually, signedUpUser, startIdentity, type StartedIdentity } from "./helpers.ts";

// Short-lived access tokens (2 s) and a short grace (2 s), so a retired key's lifetime can be watched.
let identity: StartedIdentity;
test.before(async () => {
  identity = await startIdentity({ IDENTITY_ACCESS_TOKEN_TTL_SECONDS: "2", IDENTITY_KEY_RETENTION_GRACE_SECONDS: "2" });
});
test.after.always(() => identity?.stop());

const codeOf = (error: unknown) => ConnectError.from(error).code;

test("rotating the signing key logs nobody out: old tokens verify until they expire, then the old key leaves the JWKS", async (t) => {
  const admin = await signedUpUser(identity, { admin: true });
  const user = await signedUpUser(identity);
  const oldKid = decodeProtectedHeader(user.tokens.accessToken).kid!;
  const jwksUrl = `http://${identity.service.address}/.well-known/jwks.json`;
  // Other services: the platform's verifier against the published JWKS.
  const remote = createTokenVerifier({ jwksUrl, issuer: "bazaar-identity", audience: "bazaar", minRefetchIntervalMs: 0 });

  const { kid: newKid } = await admin.client.rotateSigningKey({});
  t.not(newKid, oldKid);
  const kids = (await identity.client().getJwks({})).keys.map((k) => k.kid);
  t.true(kids.includes(oldKid) && kids.includes(newKid), "both keys are published");
  const document = await fetch(jwksUrl);
  t.regex(document.headers.get("content-type") ?? "", /json/);
  const published = (await document.json()) as { keys: Array<{ kid: string; d?: string }> };
  t.deepEqual(published.keys.map((k) => k.kid).sort(), [...kids].sort());
  t.true(published.keys.every((k) => k.d === undefined), "no private parts");

  // The token signed before the rotation still works, here and elsewhere.
  t.is((await user.client.getUser({ userId: user.userId })).user?.id, user.userId);
  t.is((await remote.verify(user.tokens.accessToken)).subject, user.userId);
  // The session carries on with the new key.
  const refreshed = (await identity.client().refreshToken({ refreshToken: user.tokens.refreshToken })).tokens!;
  t.is(decodeProtectedHeader(refreshed.accessToken).kid, newKid);
  t.is((await remote.verify(refreshed.accessToken)).subject, user.userId);

  // Once the last token of the old key has expired (2 s + 2 s grace), the key is withdrawn.
  await eventually("the old key leaving the JWKS", async () => !(await identity.client().getJwks({})).keys.some((k) => k.kid === oldKid));
  const after = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string }> };
  t.deepEqual(after.keys.map((k) => k.kid), [newKid]);
  t.is(codeOf(await t.throwsAsync(user.client.getUser({ userId: user.userId }))), Code.Unauthenticated, "the old token is dead");
});
