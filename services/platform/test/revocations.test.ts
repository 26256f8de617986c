// The revocation rule in memory: a disabled user's tokens issued before the event are refused, those
// issued after it (a re-enabled user signing in again, even within the same second) are not.
import test from "ava";
import { uuidv7 } from "uuidv7";
import { createRevocations } from "../src/auth/revocations.ts";
import { createTokenVerifier } from "../src/auth/token-verifier.ts";
import { createTestSigner } from "../src/testing.ts";
import type { Principal } from "../src/principal.ts";

const user = (issuedAtMs: number | undefined, issuedAt = issuedAtMs === undefined ? undefined : Math.floor(issuedAtMs / 1000)): Principal => ({
  subject: "u1",
  roles: ["customer"],
  kind: "user",
  token: "t",
  ...(issuedAt === undefined ? {} : { issuedAt }),
  ...(issuedAtMs === undefined ? {} : { issuedAtMs }),
});

test("tokens issued up to the event are refused, later ones (same second included) are not", (t) => {
  const revocations = createRevocations();
  const at = new Date("2026-12-07T10:00:00.500Z");
  revocations.revoke("u1", at, "disabled");
  t.is(revocations.revoked(user(at.getTime() - 1)), "disabled", "issued just before");
  t.is(revocations.revoked(user(at.getTime())), "disabled", "issued at the same millisecond");
  t.is(revocations.revoked(user(at.getTime() + 1)), undefined, "issued after, in the same second");
  t.is(revocations.revoked({ ...user(undefined), issuedAt: Math.floor(at.getTime() / 1000) }), "disabled", "known only to the second: counted from its start");
  t.is(revocations.revoked(user(undefined)), "disabled", "no issue time at all");
  t.is(revocations.revoked({ ...user(at.getTime() - 1), kind: "service" }), undefined, "service tokens are not users'");
  revocations.revoke("u1", new Date(at.getTime() - 60_000), "deleted");
  t.is(revocations.revoked(user(at.getTime() - 1)), "disabled", "an older event changes nothing");
});

test("the verifier reads the millisecond issue time from a UUIDv7 jti that agrees with iat", async (t) => {
  const signer = await createTestSigner();
  const verifier = createTokenVerifier({ jwks: { keys: [signer.publicJwk] }, issuer: "bazaar-identity", audience: "bazaar" });
  const random = await verifier.verify(await signer.token({ subject: "u1" }));
  t.is(random.issuedAtMs, random.issuedAt! * 1000, "a random jti: the start of the iat second");
  const jti = uuidv7();
  const ms = Number.parseInt(jti.slice(0, 8) + jti.slice(9, 13), 16);
  const exact = await verifier.verify(await signer.token({ subject: "u1", jti, issuedAt: Math.floor(ms / 1000) }));
  t.is(exact.issuedAtMs, ms, "a UUIDv7 jti in the iat second: its milliseconds");
  const disagreeing = await verifier.verify(await signer.token({ subject: "u1", jti, issuedAt: Math.floor(ms / 1000) - 5 }));
  t.is(disagreeing.issuedAtMs, (Math.floor(ms / 1000) - 5) * 1000, "a jti from another second is not trusted");
});
