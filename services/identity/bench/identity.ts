// `npx tsx services/identity/bench/identity.ts` (the lead adds `npm run bench:identity`): the argon2id
// hash time (it bounds sign-in), login throughput and latency through a real identity service over
// gRPC, and access-token verification throughput with the platform's verifier, bare and inside an
// authenticated RPC. Prints the figures and records them in BENCHMARKS.md.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { createSupervisor, ensureInfrastructure, repositoryRoot, stackSettings } from "@bazaar/stack";
import { createService, createTokenVerifier, loadConfig } from "@bazaar/platform";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { runLoad, type LoadResult } from "../../platform/bench/load.ts";
import { recordSection } from "../../platform/bench/report.ts";
import { createPasswordHasher, identity, identityConfigSchema } from "../src/index.ts";

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const users = Number(process.env.BENCH_USERS ?? 32);

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const env = { ...process.env, ...infra.env, BAZAAR_ENV: "development", LOG_LEVEL: "silent" };
const config = loadConfig(identityConfigSchema, env);
const fmt = (r: LoadResult) => `${Math.round(r.perSecond).toLocaleString("en")} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors}`;

// 1. argon2id alone, sequentially (m = 19 MiB, t = 2, p = 1).
const hasher = createPasswordHasher({ memoryKib: config.IDENTITY_ARGON2_MEMORY_KIB, timeCost: config.IDENTITY_ARGON2_TIME_COST });
const hashTimes: number[] = [];
let stored = "";
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  stored = await hasher.hash(`bench-password-${i}`);
  hashTimes.push(performance.now() - t0);
}
const verifyTimes: number[] = [];
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  await hasher.verify(stored, "bench-password-19");
  verifyTimes.push(performance.now() - t0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`argon2id hash: median ${median(hashTimes).toFixed(1)} ms, verify: median ${median(verifyTimes).toFixed(1)} ms (${stored.split("$")[3]})\n`);

// 2. Login through the service.
const name = `identity-bench-${randomBytes(3).toString("hex")}`;
const definition = identity({ config, name });
const service = await createService(definition, { config, verifier: definition.verifier });
let loginResult: LoadResult;
let verifyPerSecond: number;
let rpcResult: LoadResult;
try {
  const forwardedFor: Interceptor = (next) => (req) => {
    req.header.set("x-forwarded-for", `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`);
    return next(req);
  };
  const client = createClient(IdentityService, createGrpcTransport({ baseUrl: `http://${service.address}`, interceptors: [forwardedFor] }));
  const accounts = await Promise.all(
    Array.from({ length: users }, async (_, i) => {
      const email = `bench-${i}-${randomBytes(3).toString("hex")}@example.com`;
      const password = `Bench-${randomBytes(8).toString("hex")}`;
      await client.register({ email, password });
      return { email, password };
    }),
  );
  let next = 0;
  loginResult = await runLoad({
    concurrency,
    durationMs,
    warmupMs: 2000,
    call: () => client.login(accounts[next++ % accounts.length]!),
  });
  process.stdout.write(`login (${concurrency} concurrent): ${fmt(loginResult)} (logins/s | p50 ms | p99 ms | errors)\n`);

  // 3. Token verification: the platform's verifier against identity's JWKS, bare, single-threaded.
  const { tokens } = await client.login(accounts[0]!);
  const jwks = await definition.keyStore.jwks();
  const verifier = createTokenVerifier({ jwks: { keys: jwks.keys.map((k) => ({ ...k })) }, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });
  let verified = 0;
  const verifyEnd = performance.now() + 1000;
  while (performance.now() < verifyEnd) await verifier.verify(tokens!.accessToken);
  const t0 = performance.now();
  while (performance.now() - t0 < 5000) {
    await verifier.verify(tokens!.accessToken);
    verified++;
  }
  verifyPerSecond = verified / ((performance.now() - t0) / 1000);
  process.stdout.write(`token verification (platform verifier, one thread): ${Math.round(verifyPerSecond).toLocaleString("en")}/s\n`);

  // …and inside an authenticated RPC (GetUser: verify, ownership check, one row read).
  const userId = tokens!.userId;
  const authed = createClient(
    IdentityService,
    createGrpcTransport({
      baseUrl: `http://${service.address}`,
      interceptors: [(next) => (req) => (req.header.set("authorization", `Bearer ${tokens!.accessToken}`), next(req))],
    }),
  );
  rpcResult = await runLoad({ concurrency: 32, durationMs: 5000, warmupMs: 1000, call: () => authed.getUser({ userId }) });
  process.stdout.write(`authenticated GetUser (32 concurrent): ${fmt(rpcResult)}\n`);
} finally {
  await service.stop();
  const admin = new pg.Client({ connectionString: config.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}

const body = `
Sign-in is bounded by argon2id (m = ${config.IDENTITY_ARGON2_MEMORY_KIB} KiB, t = ${config.IDENTITY_ARGON2_TIME_COST}, p = 1) by design; the
service and the load generator share one process and the machine's cores with PostgreSQL.

| what | figure |
|---|---|
| argon2id hash, median of 20 sequential | ${median(hashTimes).toFixed(1)} ms |
| argon2id verify, median of 20 sequential | ${median(verifyTimes).toFixed(1)} ms |
| access-token verification, platform verifier (EdDSA, one thread) | ${Math.round(verifyPerSecond).toLocaleString("en")}/s |

| load (gRPC, closed loop) | calls/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
| Login, ${concurrency} concurrent, ${users} accounts (argon2 verify + session + refresh token + JWT) | ${fmt(loginResult)} |
| GetUser with a bearer token, 32 concurrent (verify + ownership + one row) | ${fmt(rpcResult)} |
`;
process.stdout.write(`recorded in ${recordSection(repositoryRoot, "Identity (bench:identity)", body)}\n`);
process.exit(0);
