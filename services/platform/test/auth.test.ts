// Bearer-token auth through real connect-node servers (HTTP/1.1, port 0), with keys the tests generate
// (until the identity service exists).
import test, { type ExecutionContext } from "ava";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { decodeJwt, exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from "jose";
import { Health, HealthCheckResponse_ServingStatus } from "@bazaar/contracts/grpc/health/v1/health_pb";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { currentCall, runInCallContext, type CallContext } from "../src/call-context.ts";
import { callContextInterceptor } from "../src/call-context-interceptor.ts";
import { PermissionDeniedError, UnauthenticatedError } from "../src/errors.ts";
import { errorsInterceptor } from "../src/errors-interceptor.ts";
import { createLogger } from "../src/logger.ts";
import type { Principal } from "../src/principal.ts";
import { authInterceptor, principalKey } from "../src/auth/auth-interceptor.ts";
import { credentialsInterceptor } from "../src/auth/credentials-interceptor.ts";
import { isServiceOrRole, requireOwner, requirePrincipal, requireRole, requireServiceOrRole, requireUser } from "../src/auth/require.ts";
import { createServiceCredentials } from "../src/auth/service-credentials.ts";
import { createTokenVerifier } from "../src/auth/token-verifier.ts";
import { eventually } from "../src/testing.ts";

const ISSUER = "bazaar-identity";
const AUDIENCE = "bazaar";

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function makeKey(kid: string, alg: "EdDSA" | "ES256" = "EdDSA"): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

const keys = await Promise.all([makeKey("k1"), makeKey("k2", "ES256")]);
const [k1, k2] = keys as [TestKey, TestKey];
const jwks = { keys: keys.map((k) => k.publicJwk) };

interface TokenOptions {
  key?: TestKey;
  alg?: string;
  kid?: string;
  typ?: string;
  iss?: string;
  aud?: string;
  sub?: string;
  roles?: unknown;
  svc?: boolean;
  exp?: number | string;
}

function sign(options: TokenOptions = {}): Promise<string> {
  const key = options.key ?? k1;
  const claims: Record<string, unknown> = { roles: options.roles ?? ["customer"] };
  if (options.svc !== undefined) claims.svc = options.svc;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? (key === k2 ? "ES256" : "EdDSA"), kid: options.kid ?? key.kid, typ: options.typ ?? "at+jwt" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setSubject(options.sub ?? "0190f3d2-0000-7000-8000-000000000001")
    .setIssuedAt()
    .setExpirationTime(options.exp ?? "5m")
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: "auth-test", level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

const callContext: Interceptor = callContextInterceptor();

async function serve(t: ExecutionContext, routes: (router: ConnectRouter) => void, interceptors: Interceptor[]): Promise<string> {
  const server = http.createServer(connectNodeAdapter({ routes, interceptors }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const whoAmI = () => {
  const principal = requirePrincipal();
  return { userId: principal.subject, roles: [...principal.roles], service: principal.kind === "service" };
};

async function setup(t: ExecutionContext, options: { withCallContext?: boolean } = {}) {
  const { logger, lines } = captureLogger();
  const verifier = createTokenVerifier({ jwks, issuer: ISSUER, audience: AUDIENCE });
  const seenByHandler: { fromCallContext?: Principal; fromContextValues?: Principal }[] = [];
  const interceptors = [errorsInterceptor({ logger }), ...(options.withCallContext === false ? [] : [callContext]), authInterceptor(verifier, { logger })];
  const seenInStream: string[] = [];
  const baseUrl = await serve(
    t,
    (router) => {
      router.service(TestService, {
        whoAmI: (_req, ctx) => {
          seenByHandler.push({ fromCallContext: currentCall()?.principal, fromContextValues: ctx.values.get(principalKey) });
          return whoAmI();
        },
        echo: (req) => ({ message: req.message }),
      });
      router.service(Health, {
        async *watch() {
          for (let i = 0; i < 2; i++) {
            await sleep(1);
            seenInStream.push(requireUser().subject);
            yield { status: HealthCheckResponse_ServingStatus.SERVING };
          }
        },
      });
    },
    interceptors,
  );
  const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });
  return { client: createClient(TestService, transport), health: createClient(Health, transport), lines, seenByHandler, seenInStream };
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
/** The issue times a principal carries for `token` (a random jti: the start of its `iat` second). */
const issued = (token: string) => ({ issuedAt: decodeJwt(token).iat!, issuedAtMs: decodeJwt(token).iat! * 1000 });

test("a valid user token yields its principal in the handler, through the call context and Connect's context values", async (t) => {
  const { client, seenByHandler } = await setup(t);
  const token = await sign({ sub: "user-7", roles: ["customer", "reviewer"] });
  const me = await client.whoAmI({}, bearer(token));
  t.is(me.userId, "user-7");
  t.deepEqual(me.roles, ["customer", "reviewer"]);
  t.false(me.service);
  const expected: Principal = { subject: "user-7", roles: ["customer", "reviewer"], kind: "user", token, ...issued(token) };
  t.deepEqual(seenByHandler, [{ fromCallContext: expected, fromContextValues: expected }]);
});

test("an ES256 token from a second key in the set verifies too", async (t) => {
  const { client } = await setup(t);
  const me = await client.whoAmI({}, bearer(await sign({ key: k2, sub: "user-8" })));
  t.is(me.userId, "user-8");
});

test("a service token (svc: true) yields a service principal", async (t) => {
  const { client } = await setup(t);
  const me = await client.whoAmI({}, bearer(await sign({ sub: "order", roles: [], svc: true })));
  t.is(me.userId, "order");
  t.true(me.service);
});

test("without an Authorization header the call proceeds anonymously, and requirePrincipal refuses it as unauthenticated", async (t) => {
  const { client } = await setup(t);
  t.is((await client.echo({ message: "hi" })).message, "hi");
  const error = await t.throwsAsync(client.whoAmI({}), { instanceOf: ConnectError });
  t.is(error?.code, Code.Unauthenticated);
});

test("a streaming handler sees the principal while it produces its messages", async (t) => {
  const { health, seenInStream } = await setup(t);
  const token = await sign({ sub: "user-5" });
  let received = 0;
  for await (const _ of health.watch({ service: "" }, bearer(token))) received++;
  t.is(received, 2);
  t.deepEqual(seenInStream, ["user-5", "user-5"]);
  const error = await t.throwsAsync(
    (async () => {
      for await (const _ of health.watch({ service: "" })) received++;
    })(),
    { instanceOf: ConnectError },
  );
  t.is(error?.code, Code.Unauthenticated, "anonymous: refused from inside the stream");
});

test("the principal reaches the handler even without a call-context interceptor in front", async (t) => {
  const { client, seenByHandler } = await setup(t, { withCallContext: false });
  const me = await client.whoAmI({}, bearer(await sign({ sub: "user-9" })));
  t.is(me.userId, "user-9");
  t.is(seenByHandler[0]?.fromCallContext?.subject, "user-9");
});

test("forged, misdirected, expired and malformed tokens are rejected as unauthenticated with a generic message, the reason logged", async (t) => {
  const { client, lines, seenByHandler } = await setup(t);
  const claims = { sub: "attacker", roles: ["admin"], iss: ISSUER, aud: AUDIENCE, jti: "x", iat: Math.floor(Date.now() / 1000) };
  // What an attacker can get: the public key, as published (JWK) or as PEM.
  const publicJwkBytes = new TextEncoder().encode(JSON.stringify(k1.publicJwk));
  const publicPemBytes = new TextEncoder().encode(await exportSPKI((await importJWK(k1.publicJwk, "EdDSA")) as CryptoKey));
  const unknownKey = await makeKey("k-unknown");
  const valid = await sign();
  const [header, payload] = valid.split(".");
  const cases: [name: string, token: string, reason: RegExp][] = [
    ["alg none", new UnsecuredJWT(claims).setExpirationTime("5m").encode(), /"alg" .* not allowed/],
    ["alg none with our typ and kid", `${b64({ alg: "none", typ: "at+jwt", kid: "k1" })}.${payload}.`, /"alg" .* not allowed/],
    ["wrong aud", await sign({ aud: "someone-else" }), /"aud"/],
    ["wrong iss", await sign({ iss: "evil-identity" }), /"iss"/],
    ["expired", await sign({ exp: Math.floor(Date.now() / 1000) - 120 }), /"exp"/],
    ["unknown kid", await sign({ key: unknownKey }), /no applicable key/],
    ["a known kid signed by another key", await sign({ key: { ...unknownKey, kid: "k1" } }), /signature verification failed/],
    [
      "HS256 signed with the public JWK (key confusion)",
      await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "k1", typ: "at+jwt" }).setExpirationTime("5m").sign(publicJwkBytes),
      /"alg" .* not allowed/,
    ],
    [
      "HS256 signed with a PEM public key (key confusion)",
      await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "k1", typ: "at+jwt" }).setExpirationTime("5m").sign(publicPemBytes),
      /"alg" .* not allowed/,
    ],
    ["an ID token (typ JWT)", await sign({ typ: "JWT" }), /"typ"/],
    ["tampered payload", `${header}.${b64({ ...decodeJwt(valid), sub: "someone-else" })}.${valid.split(".")[2]}`, /signature verification failed/],
    ["roles not a list", await sign({ roles: "admin" }), /"roles"/],
    ["not a JWT", "not-a-jwt", /Invalid Compact JWS/],
  ];
  for (const [name, token, reason] of cases) {
    const error = await t.throwsAsync(client.whoAmI({}, bearer(token)), { instanceOf: ConnectError }, name);
    t.is(error?.code, Code.Unauthenticated, name);
    t.is(error?.rawMessage, "invalid credentials", name);
    const logged = lines.filter((line) => line.msg === "refused credentials").at(-1);
    t.regex(String(logged?.reason), reason, name);
    lines.length = 0;
  }
  const basic = await t.throwsAsync(client.whoAmI({}, { headers: { authorization: "Basic dXNlcjpwYXNz" } }), { instanceOf: ConnectError });
  t.is(basic?.code, Code.Unauthenticated);
  t.regex(String(lines.find((line) => line.msg === "refused credentials")?.reason), /not a bearer token/);
  t.deepEqual(seenByHandler, [], "no rejected call reached the handler");
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

test("a verifier cannot be configured with symmetric algorithms, alg none, or a key set holding secrets", (t) => {
  for (const algorithms of [["HS256"], ["EdDSA", "HS512"], ["none"]]) {
    t.throws(() => createTokenVerifier({ jwks, issuer: ISSUER, audience: AUDIENCE, algorithms: algorithms as never }), { instanceOf: TypeError });
  }
  t.throws(() => createTokenVerifier({ jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] }, issuer: ISSUER, audience: AUDIENCE }), { instanceOf: TypeError });
  t.throws(() => createTokenVerifier({ jwks: { keys: [{ ...k1.publicJwk, d: "private" }] }, issuer: ISSUER, audience: AUDIENCE }), { instanceOf: TypeError });
  t.throws(() => createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE }), { instanceOf: TypeError });
});

function as(principal: Principal | undefined, fn: () => unknown): unknown {
  const context: CallContext = { signal: new AbortController().signal, principal };
  return runInCallContext(context, fn);
}

const user = (subject: string, roles: string[] = ["customer"]): Principal => ({ subject, roles, kind: "user", token: "t" });
const service: Principal = { subject: "order", roles: [], kind: "service", token: "t" };

test("requireUser accepts signed-in users, refuses anonymous callers (unauthenticated) and services (permission denied)", (t) => {
  t.is((as(user("u1"), requireUser) as Principal).subject, "u1");
  t.throws(() => as(undefined, requireUser), { instanceOf: UnauthenticatedError });
  t.throws(() => requireUser(), { instanceOf: UnauthenticatedError }, "outside any call");
  t.throws(() => as(service, requireUser), { instanceOf: PermissionDeniedError });
});

test("requireRole accepts holders of the role only", (t) => {
  t.is((as(user("u1", ["staff"]), () => requireRole("staff")) as Principal).subject, "u1");
  t.throws(() => as(user("u1", ["customer"]), () => requireRole("staff")), { instanceOf: PermissionDeniedError });
  t.throws(() => as(undefined, () => requireRole("staff")), { instanceOf: UnauthenticatedError });
});

test("requireOwner lets the owner, admins and services through, and refuses other users", (t) => {
  t.notThrows(() => as(user("u1"), () => requireOwner("u1")));
  t.notThrows(() => as(user("staff-1", ["admin"]), () => requireOwner("u1")));
  t.notThrows(() => as(service, () => requireOwner("u1")));
  t.throws(() => as(user("u2"), () => requireOwner("u1")), { instanceOf: PermissionDeniedError });
  t.throws(() => as(user("u2"), () => requireOwner("")), { instanceOf: PermissionDeniedError }, "no owner is nobody's");
  t.throws(() => as(undefined, () => requireOwner("u1")), { instanceOf: UnauthenticatedError });
});

test("requireServiceOrRole lets services and holders of the role through, and refuses customers with SERVICE_OR_<ROLE>_REQUIRED", (t) => {
  t.notThrows(() => as(service, () => requireServiceOrRole("admin")));
  t.notThrows(() => as(user("staff-1", ["admin"]), () => requireServiceOrRole("admin")));
  const refused = t.throws(() => as(user("u1", ["customer"]), () => requireServiceOrRole("admin", "reservations are made by services and admins")), {
    instanceOf: PermissionDeniedError,
  });
  t.is(refused?.message, "reservations are made by services and admins");
  t.is((refused as PermissionDeniedError | undefined)?.reason, "SERVICE_OR_ADMIN_REQUIRED");
  t.throws(() => as(undefined, () => requireServiceOrRole("admin")), { instanceOf: UnauthenticatedError });
  t.deepEqual([isServiceOrRole(service, "admin"), isServiceOrRole(user("u1", ["customer"]), "admin"), isServiceOrRole(undefined, "admin")], [true, false, false]);
});

test("outgoing calls carry the user's token when made on a user's behalf, else the service's own token", async (t) => {
  const { logger } = captureLogger();
  const verifier = createTokenVerifier({ jwks, issuer: ISSUER, audience: AUDIENCE });
  const seenByB: Principal[] = [];
  const bUrl = await serve(
    t,
    (router) =>
      router.service(TestService, {
        whoAmI: () => {
          seenByB.push(requirePrincipal());
          return whoAmI();
        },
      }),
    [errorsInterceptor({ logger }), callContext, authInterceptor(verifier, { logger })],
  );
  const credentials = createServiceCredentials({ service: "cart", privateKey: k1.privateKey, kid: k1.kid, issuer: ISSUER, audience: AUDIENCE });
  const toB = createClient(TestService, createConnectTransport({ baseUrl: bUrl, httpVersion: "1.1", interceptors: [credentialsInterceptor(credentials)] }));
  const aUrl = await serve(
    t,
    (router) =>
      router.service(TestService, {
        relay: async () => {
          await toB.whoAmI({});
          return {};
        },
      }),
    [errorsInterceptor({ logger }), callContext, authInterceptor(verifier, { logger })],
  );
  const toA = createClient(TestService, createConnectTransport({ baseUrl: aUrl, httpVersion: "1.1" }));

  const userToken = await sign({ sub: "user-3" });
  await toA.relay({}, bearer(userToken));
  await toA.relay({});
  await runInCallContext({ signal: new AbortController().signal }, () => toB.whoAmI({})); // an event handler, say
  t.is(seenByB.length, 3);
  t.deepEqual(seenByB[0], { subject: "user-3", roles: ["customer"], kind: "user", token: userToken, ...issued(userToken) });
  for (const principal of seenByB.slice(1)) {
    t.is(principal.kind, "service");
    t.is(principal.subject, "cart");
  }
  // An Authorization header set on the call wins.
  const explicit = await sign({ sub: "user-4" });
  t.is((await toB.whoAmI({}, bearer(explicit))).userId, "user-4");
});

test("service credentials reuse one token and make a new one before the old expires", async (t) => {
  const ttlSeconds = 4; // renewed when under a second is left
  const credentials = createServiceCredentials({
    service: "payment",
    privateKey: k2.privateKey,
    kid: k2.kid,
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSeconds,
    roles: ["service"],
  });
  const verifier = createTokenVerifier({ jwks, issuer: ISSUER, audience: AUDIENCE });
  const [first, again] = await Promise.all([credentials.token(), credentials.token()]);
  t.is(first, again);
  t.is(await credentials.token(), first);
  const principal = await verifier.verify(first);
  const { issuedAt, issuedAtMs, ...rest } = principal;
  t.deepEqual({ ...rest, token: "" }, { subject: "payment", roles: ["service"], kind: "service", token: "" });
  t.is(issuedAt, decodeJwt(first).iat);
  t.is(Math.floor(issuedAtMs! / 1000), issuedAt!, "to the millisecond, within its iat second");
  const firstExpiry = decodeJwt(first).exp! * 1000;

  const next = await eventually("a renewed token", async () => {
    const token = await credentials.token();
    return token !== first && token;
  }, 10_000, 100);
  t.not(next, first);
  t.true(Date.now() < firstExpiry, "renewed while the first was still valid");
  t.is((await verifier.verify(next)).subject, "payment");
});

test("service credentials accept a private JWK and refuse keys whose algorithm they cannot tell", async (t) => {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = await exportJWK(privateKey);
  const token = await createServiceCredentials({ service: "s", privateKey: jwk, kid: "k1", issuer: ISSUER, audience: AUDIENCE }).token();
  t.is(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).alg, "EdDSA");
  const rsa = await generateKeyPair("RS256");
  t.throws(() => createServiceCredentials({ service: "s", privateKey: rsa.privateKey, kid: "r", issuer: ISSUER, audience: AUDIENCE }), { instanceOf: TypeError });
});
