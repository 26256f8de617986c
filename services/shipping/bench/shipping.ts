// `npm run bench:shipping`: QuoteShipping through a real shipping process (gRPC, auth, zone match,
// rate rules, one stored quote per call) for a 10-line cart against 20 zones × 3 methods, at
// concurrency 1 and 16: quotes per second, p50/p99, and the service's CPU per quote (from
// /proc/<pid>/stat). Prints the figures and records them in BENCHMARKS.md.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import pg from "pg";
import { createSupervisor, ensureInfrastructure, repositoryRoot, stackSettings } from "@bazaar/stack";
import { ShippingService, type ShippingRateSchema } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { runLoad, type LoadResult } from "../../platform/bench/load.ts";
import { recordSection } from "../../platform/bench/report.ts";

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const ZONES = 20;

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const name = `shipping-bench-${randomBytes(3).toString("hex")}`;
// EVENTS_NEW_CONSUMER_START=new: the service's new durable on the order stream would otherwise first replay every
// earlier run's orders (making shipments), and that catch-up would be measured as the quotes' CPU.
const env: NodeJS.ProcessEnv = { ...process.env, ...infra.env, BAZAAR_ENV: "development", LOG_LEVEL: "warn", BENCH_SERVICE_NAME: name, DB_POOL_SIZE: "8", EVENTS_NEW_CONSUMER_START: "new", SHIPPING_SEED_DEFAULTS: "false" };

const kid = "bench";
const { privateKey, publicKey } = await generateKeyPair("EdDSA");
const token = (roles: string[], service: boolean) =>
  new SignJWT({ roles, ...(service ? { svc: true } : {}) })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
    .setIssuer("bazaar-identity")
    .setAudience("bazaar")
    .setSubject(service ? "cart" : "admin-bench")
    .setIssuedAt()
    .setExpirationTime("1h")
    .setJti(randomUUID())
    .sign(privateKey);

/** utime + stime of a process, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
}

let child: ChildProcess | undefined;
try {
  // BENCH_CPU_PROF_DIR: the service writes a V8 CPU profile there when it stops (for finding the cost).
  const profile = process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`, "--cpu-prof-name=shipping.cpuprofile"] : [];
  child = spawn(process.execPath, [...profile, "--import", "tsx", fileURLToPath(new URL("./server.ts", import.meta.url))], {
    env: { ...env, BENCH_JWK: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" }) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const { port, pid } = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    child!.once("exit", (code) => reject(new Error(`shipping exited with ${code}`)));
    createInterface({ input: child!.stdout! }).on("line", (line) => {
      const match = /^port (\d+) pid (\d+)$/.exec(line);
      if (match) resolve({ port: Number(match[1]), pid: Number(match[2]) });
    });
  });
  const clientWith = (bearer: string) => {
    const auth: Interceptor = (next) => (request) => {
      request.header.set("authorization", `Bearer ${bearer}`);
      return next(request);
    };
    return createClient(ShippingService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}`, interceptors: [auth] }));
  };
  const admin = clientWith(await token(["admin"], false));
  const cart = clientWith(await token([], true));

  // 20 zones × 3 methods: each zone a few countries, one with a region and a postal prefix area too.
  const countries = ["DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "DK", "FI", "IE", "PT", "CZ", "HU", "RO", "GR", "SK", "SI", "HR", "BG", "LT", "LV", "EE", "LU", "MT", "CY", "NO", "CH", "GB", "CA", "AU", "NZ", "JP", "KR", "SG", "MX", "BR", "AR", "CL"];
  const tiers = (base: bigint) => ({ tiers: [0n, 1000n, 5000n, 10_000n].map((from, i) => ({ from, priceMinor: base + BigInt(i) * 200n })), max: 30_000n });
  for (let z = 0; z < ZONES; z++) {
    const [a, b] = [countries[2 * z]!, countries[2 * z + 1]!];
    const { zone } = await admin.createShippingZone({
      zone: { name: `Bench zone ${z}`, areas: [{ countryCode: a }, { countryCode: b }, { countryCode: a, region: "R1" }, { countryCode: a, postalPrefix: "1" }] },
    });
    const method = (code: string, rates: MessageInitShape<typeof ShippingRateSchema>[]) =>
      admin.createShippingMethod({ method: { zoneId: zone!.id, code, name: code, carrier: "test", serviceLevel: code, minDays: 2, maxDays: 5, active: true, rates } });
    await method("economy", [{ currencyCode: "EUR", rule: { case: "flatMinor", value: 499n } }, { currencyCode: "USD", rule: { case: "flatMinor", value: 549n } }]);
    await method("standard", [{ currencyCode: "EUR", rule: { case: "byWeight", value: tiers(699n) }, freeOverMinor: 10_000n }]);
    await method("express", [{ currencyCode: "EUR", rule: { case: "bySubtotal", value: tiers(1499n) } }]);
  }
  const lines = Array.from({ length: 10 }, (_, i) => ({ sku: `BENCH-SKU-${i}`, quantity: 1 + (i % 3), weightGrams: BigInt(150 + i * 90) }));
  const quote = () =>
    cart.quoteShipping({
      destination: { countryCode: countries[2 * Math.floor(Math.random() * ZONES)]!, postalCode: `${Math.floor(Math.random() * 90000) + 10000}` },
      lines,
      subtotal: { amountMinor: 8_450n, currencyCode: "EUR" },
    });
  const sample = (await quote()).quote!;
  if (sample.options.length !== 3) throw new Error(`expected 3 options, got ${sample.options.length}`);

  const measure = async (concurrency: number) => {
    await runLoad({ call: quote, concurrency, durationMs: 2000 }); // warm-up
    const before = cpuMs(pid);
    const result = await runLoad({ call: quote, concurrency, durationMs });
    const cpu = cpuMs(pid) - before;
    const calls = Math.round(result.perSecond * (durationMs / 1000));
    return { result, cpuPerQuoteMs: cpu / Math.max(calls, 1) };
  };
  console.log(`quoting for ${durationMs / 1000} s at concurrency 1 and 16…`);
  const one = await measure(1);
  console.log("concurrency 1", one);
  const sixteen = await measure(16);
  console.log("concurrency 16", sixteen);

  const lscpu = execFileSync("lscpu").toString();
  const model = /Model name:\s*(.+)/.exec(lscpu)?.[1]?.trim() ?? "unknown";
  const cpus = /^CPU\(s\):\s*(\d+)/m.exec(lscpu)?.[1] ?? "?";
  const row = (c: number, m: { result: LoadResult; cpuPerQuoteMs: number }) =>
    `| ${c} | ${m.result.perSecond.toFixed(0)} | ${m.result.p50Ms.toFixed(2)} | ${m.result.p99Ms.toFixed(2)} | ${m.cpuPerQuoteMs.toFixed(2)} | ${m.result.errors} |`;
  const body = [
    `QuoteShipping for a 10-line cart (weights, EUR subtotal) to a random one of 20 zones × 3 methods (flat,`,
    `weight tiers with free-over, subtotal tiers), over gRPC from another process with a service token; every`,
    `call matches the zone, prices the methods and stores the quote. Closed loop, ${durationMs / 1000} s after a 2 s warm-up.`,
    `CPU per quote: the service process's user + system time over the run / quotes. lscpu: ${cpus} × ${model};`,
    `load average at the end ${loadavg().map((l) => l.toFixed(1)).join(" / ")} (the machine is shared: other work ran alongside).`,
    "",
    "| concurrency | quotes/s | p50 ms | p99 ms | service CPU ms/quote | errors |",
    "|---|---|---|---|---|---|",
    row(1, one),
    row(16, sixteen),
  ].join("\n");
  console.log(`recorded in ${recordSection(repositoryRoot, "Shipping quotes (bench:shipping)", body)}`);
} finally {
  child?.kill("SIGTERM");
  await new Promise((resolve) => (child && child.exitCode === null ? child.once("exit", resolve) : resolve(undefined)));
  const admin = new pg.Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}
