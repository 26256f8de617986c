// The token verifier against a JWKS served over HTTP by a local server the tests control: caching,
// refetch on a new kid, the refetch floor, outages and key removal.
import test, { type ExecutionContext } from "ava";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { UnauthenticatedError, UnavailableError } from "../src/errors.ts";
import { authInterceptor } from "../src/auth/auth-interceptor.ts";
import { requirePrincipal } from "../src/auth/require.ts";
import { createTokenVerifier, type TokenVerifierOptions } from "../src/auth/token-verifier.ts";
import { eventually } from "../src/testing.ts";

const ISSUER = "bazaar-identity";
const AUDIENCE = "bazaar";

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function makeKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } };
}

function sign(key: TestKey, kid = key.kid): Promise<string> {
  return new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject("user-1")
    .setIssuedAt()
    .setExpirationTime("5m")
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

/** A JWKS endpoint whose keys and health the test changes, counting the fetches it answers. */
async function jwksServer(t: ExecutionContext, keys: TestKey[]) {
  const state = { keys, status: 200, fetches: 0, fetchedAt: [] as number[] };
  const server = http.createServer((req, res) => {
    state.fetches += 1;
    state.fetchedAt.push(Date.now());
    res.writeHead(state.status, { "content-type": "application/json" });
    res.end(state.status === 200 ? JSON.stringify({ keys: state.keys.map((k) => k.publicJwk) }) : '{"error":"down"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json` };
}

function verifierFor(url: string, options: Partial<TokenVerifierOptions> = {}) {
  return createTokenVerifier({ jwksUrl: url, issuer: ISSUER, audience: AUDIENCE, ...options });
}

async function outcome(promise: Promise<unknown>): Promise<"ok" | "unauthenticated" | "unavailable"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof UnavailableError) return "unavailable";
    if (error instanceof UnauthenticatedError) return "unauthenticated";
    throw error;
  }
}


test("the JWKS is fetched once and then served from the cache", async (t) => {
  const k1 = await makeKey("k1");
  const jwks = await jwksServer(t, [k1]);
  const verifier = verifierFor(jwks.url);
  for (let i = 0; i < 20; i++) t.is((await verifier.verify(await sign(k1))).subject, "user-1");
  await Promise.all(Array.from({ length: 20 }, async () => verifier.verify(await sign(k1))));
  t.is(jwks.state.fetches, 1);
});

test("a token with a new kid makes the verifier refetch the JWKS, once the floor since the last fetch has passed", async (t) => {
  const floor = 1_000;
  const [k1, k2] = await Promise.all([makeKey("k1"), makeKey("k2")]);
  const jwks = await jwksServer(t, [k1]);
  const verifier = verifierFor(jwks.url, { minRefetchIntervalMs: floor });
  await verifier.verify(await sign(k1));
  const firstFetch = Date.now();
  t.is(jwks.state.fetches, 1);

  jwks.state.keys = [k1, k2]; // identity rotates in a new key
  const early = await outcome(verifier.verify(await sign(k2)));
  if (Date.now() - firstFetch < floor) {
    t.is(early, "unauthenticated", "within the floor the unknown kid is refused without a fetch");
    t.is(jwks.state.fetches, 1);
  }
  await eventually("the new key to verify", async () => (await outcome(verifier.verify(await sign(k2)))) === "ok");
  t.is(jwks.state.fetches, 2, "exactly one refetch for the new kid, however many tries");
  // Measured where the fetches arrive: the floor runs from the first fetch's completion, later still.
  t.true(jwks.state.fetchedAt[1]! - jwks.state.fetchedAt[0]! >= floor, `refetched ${jwks.state.fetchedAt[1]! - jwks.state.fetchedAt[0]!} ms after the first fetch`);
  t.is(await outcome(verifier.verify(await sign(k1))), "ok", "the old key still verifies");
});

test("tokens with made-up kids cannot make the verifier fetch the JWKS more often than the floor allows", async (t) => {
  const floor = 1_000;
  const k1 = await makeKey("k1");
  const jwks = await jwksServer(t, [k1]);
  const verifier = verifierFor(jwks.url, { minRefetchIntervalMs: floor });
  await verifier.verify(await sign(k1));
  const start = Date.now();
  const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => sign(k1, `forged-${i}`)));
  for (const token of forged.slice(0, 25)) t.is(await outcome(verifier.verify(token)), "unauthenticated");
  t.deepEqual(new Set(await Promise.all(forged.slice(25).map((token) => outcome(verifier.verify(token))))), new Set(["unauthenticated"]));
  const elapsed = Date.now() - start;
  // One fetch at the start; at most one more per floor interval that passed while forging.
  t.true(jwks.state.fetches - 1 <= Math.floor(elapsed / floor), `${jwks.state.fetches} fetches in ${elapsed} ms`);
});

test("while the JWKS endpoint fails, cached keys keep verifying, unknown kids get unavailable, and retries wait out the floor", async (t) => {
  const floor = 1_000;
  const [k1, k2] = await Promise.all([makeKey("k1"), makeKey("k2")]);
  const jwks = await jwksServer(t, [k1]);
  const verifier = verifierFor(jwks.url, { minRefetchIntervalMs: floor });
  await verifier.verify(await sign(k1));
  jwks.state.status = 503;
  jwks.state.keys = [k1, k2];

  t.is(await outcome(verifier.verify(await sign(k1))), "ok");
  // Once the floor has passed, the unknown kid makes one fetch, which fails: the caller cannot be blamed.
  await eventually("a failed refetch", async () => (await outcome(verifier.verify(await sign(k2)))) === "unavailable");
  const failedFetches = jwks.state.fetches;
  t.is(failedFetches, 2);
  const failedAt = Date.now();
  for (let i = 0; i < 10; i++) t.is(await outcome(verifier.verify(await sign(k2))), "unavailable");
  if (Date.now() - failedAt < floor) t.is(jwks.state.fetches, failedFetches, "no new fetch within the floor after a failure");
  t.is(await outcome(verifier.verify(await sign(k1))), "ok", "known keys are unaffected by the outage");

  jwks.state.status = 200;
  await eventually("recovery", async () => (await outcome(verifier.verify(await sign(k2)))) === "ok");
});

test("a JWKS that cannot be fetched at all surfaces as unavailable through the interceptor", async (t) => {
  const k1 = await makeKey("k1");
  const jwks = await jwksServer(t, [k1]);
  jwks.state.status = 500;
  const verifier = verifierFor(jwks.url);
  const server = http.createServer(
    connectNodeAdapter({
      routes: (router) => router.service(TestService, { whoAmI: () => ({ userId: requirePrincipal().subject }) }),
      interceptors: [authInterceptor(verifier)],
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  const client = createClient(TestService, createConnectTransport({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, httpVersion: "1.1" }));
  const error = await t.throwsAsync(client.whoAmI({}, { headers: { authorization: `Bearer ${await sign(k1)}` } }), { instanceOf: ConnectError });
  t.is(error?.code, Code.Unavailable);
  t.false(error!.message.includes("500"), "the JWKS failure itself stays in the log");
});

test("a key removed from the JWKS stops verifying after the background refresh", async (t) => {
  const [k1, k2] = await Promise.all([makeKey("k1"), makeKey("k2")]);
  const jwks = await jwksServer(t, [k1, k2]);
  const verifier = verifierFor(jwks.url, { minRefetchIntervalMs: 100, refreshIntervalMs: 300 });
  t.is(await outcome(verifier.verify(await sign(k1))), "ok");
  jwks.state.keys = [k2]; // k1 retired (or compromised)
  await eventually("k1 to be refused", async () => (await outcome(verifier.verify(await sign(k1)))) === "unauthenticated");
  t.is(await outcome(verifier.verify(await sign(k2))), "ok");
});

test("a token that verified before (and may be remembered) is refused once its key is removed from the JWKS", async (t) => {
  const [k1, k2] = await Promise.all([makeKey("k1"), makeKey("k2")]);
  const jwks = await jwksServer(t, [k1, k2]);
  const verifier = verifierFor(jwks.url, { minRefetchIntervalMs: 100, refreshIntervalMs: 300 });
  const token = await sign(k1);
  t.is(await outcome(verifier.verify(token)), "ok");
  t.is(await outcome(verifier.verify(token)), "ok", "the same token again");
  jwks.state.keys = [k2];
  await eventually("the very same k1 token to be refused", async () => (await outcome(verifier.verify(token))) === "unauthenticated");
  t.is(await outcome(verifier.verify(await sign(k2))), "ok");
});
