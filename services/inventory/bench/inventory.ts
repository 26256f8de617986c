// `npm run bench:inventory`: reservations per second and latency through a real inventory process
// (gRPC, auth, PostgreSQL, outbox): every reservation on one hot SKU, then spread over many SKUs.
// Prints the figures and records them in BENCHMARKS.md.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import pg from "pg";
import { createSupervisor, ensureInfrastructure, repositoryRoot, stackSettings } from "@bazaar/stack";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { runLoad, type LoadResult } from "../../platform/bench/load.ts";
import { recordSection } from "../../platform/bench/report.ts";

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const spreadSkus = Number(process.env.BENCH_SPREAD_SKUS ?? 1000);

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const name = `inventory-bench-${randomBytes(3).toString("hex")}`;
const env: NodeJS.ProcessEnv = { ...process.env, ...infra.env, BAZAAR_ENV: "development", LOG_LEVEL: "warn", BENCH_SERVICE_NAME: name };

const kid = "bench";
const { privateKey, publicKey } = await generateKeyPair("EdDSA");
const token = (roles: string[], service: boolean) =>
  new SignJWT({ roles, ...(service ? { svc: true } : {}) })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
    .setIssuer("bazaar-identity")
    .setAudience("bazaar")
    .setSubject(service ? "checkout" : "admin-bench")
    .setIssuedAt()
    .setExpirationTime("1h")
    .setJti(randomUUID())
    .sign(privateKey);

let child: ChildProcess | undefined;
try {
  child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./server.ts", import.meta.url))], {
    env: { ...env, BENCH_JWK: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" }) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child!.once("exit", (code) => reject(new Error(`inventory exited with ${code}`)));
    createInterface({ input: child!.stdout! }).on("line", (line) => {
      const match = /^port (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  const clientWith = (bearer: string) => {
    const auth: Interceptor = (next) => (request) => {
      request.header.set("authorization", `Bearer ${bearer}`);
      return next(request);
    };
    return createClient(InventoryService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, interceptors: [auth] }));
  };
  const admin = clientWith(await token(["admin"], false));
  const checkout = clientWith(await token([], true));

  const hot = "BENCH-HOT";
  await admin.receiveStock({ sku: hot, quantity: 1_000_000_000n });
  const spread = Array.from({ length: spreadSkus }, (_, i) => `BENCH-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < spread.length; i += 50) {
    await Promise.all(spread.slice(i, i + 50).map((sku) => admin.receiveStock({ sku, quantity: 1_000_000n })));
  }

  const reserveOn = (pick: () => string) => () =>
    checkout.reserveStock({ reference: randomUUID(), lines: [{ sku: pick(), quantity: 1n }] });
  console.log(`reserving for ${durationMs / 1000} s per scenario at concurrency ${concurrency}…`);
  const hotResult = await runLoad({ call: reserveOn(() => hot), concurrency, durationMs });
  console.log("one hot SKU", hotResult);
  const spreadResult = await runLoad({ call: reserveOn(() => spread[Math.floor(Math.random() * spread.length)]!), concurrency, durationMs });
  console.log(`${spreadSkus} SKUs`, spreadResult);
  const cycle = await runLoad({
    call: async () => {
      const { reservation } = await checkout.reserveStock({ reference: randomUUID(), lines: [{ sku: hot, quantity: 1n }] });
      await checkout.commitReservation({ reservationId: reservation!.id });
    },
    concurrency,
    durationMs,
  });
  console.log("reserve + commit on the hot SKU", cycle);

  const row = (label: string, r: LoadResult) =>
    `| ${label} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.errors} |`;
  const body = [
    `ReserveStock of 1 unit with a new reference per call, over gRPC from another process (service token,`,
    `PostgreSQL row lock, outbox row per reservation); closed loop, ${concurrency} in flight, ${durationMs / 1000} s after a 2 s warm-up.`,
    "",
    "| scenario | reservations/s | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|",
    row("one hot SKU", hotResult),
    row(`${spreadSkus} SKUs, uniform`, spreadResult),
    row("reserve + commit, hot SKU (per pair)", cycle),
  ].join("\n");
  console.log(`recorded in ${recordSection(repositoryRoot, "Inventory reservations (bench:inventory)", body)}`);
} finally {
  child?.kill("SIGTERM");
  await new Promise((resolve) => (child && child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
  const admin = new pg.Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}
