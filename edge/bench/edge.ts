// `npm run bench:edge`: Connect JSON through the edge against the same call made directly to the
// service — a catalog read (a page of ListProducts at 1,000 products), uncached (POST) and cached (GET
// revalidated with If-None-Match → 304), and a guest's add-to-cart — at a moderate fixed arrival rate
// (open loop) and at saturation (closed loop). Catalog + inventory, the cart and the edge each run in a process of their own; the load
// generator is this process. Prints the figures and records them in BENCHMARKS.md.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createSupervisor, ensureInfrastructure, isPassing, repositoryRoot, stackSettings } from "@bazaar/stack";
import { runLoad, runOpenLoad, type LoadResult } from "../../services/platform/bench/load.ts";
import { cpuMsOf } from "../../services/platform/bench/process-cpu.ts";
import { recordSection } from "../../services/platform/bench/report.ts";

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8_000);
// Well below what this machine saturates at (~400 req/s direct on 2 cores), so the edge's own cost shows
// rather than CPU contention between the processes.
const moderateRate = Number(process.env.BENCH_MODERATE_RATE ?? 100);
const saturated = Number(process.env.BENCH_CONCURRENCY ?? 32);
// BENCH_ONLY=<text>: run only the rows whose label contains it (for profiling one path); nothing is recorded.
const only = process.env.BENCH_ONLY;

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const suffix = randomBytes(3).toString("hex");
const name = `catalog-bench-${suffix}`;
const names = [name, `inventory-bench-${suffix}`, `cart-bench-${suffix}`, `promotion-bench-${suffix}`];
const limitsKey = `bazaar/edge-bench/${name}`;
const consul = `http://${settings.consulAddr}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...infra.env,
  BAZAAR_ENV: "development",
  LOG_LEVEL: "silent",
  BENCH_CATALOG_NAME: name,
  BENCH_INVENTORY_NAME: names[1],
  BENCH_CART_NAME: names[2],
  BENCH_PROMOTION_NAME: names[3],
  BENCH_LIMITS_KEY: limitsKey,
};
const children: ChildProcess[] = [];
let edgePid = 0;

let skus: string[] = [];
function spawnServer(file: string): Promise<number> {
  // BENCH_CPU_PROF_DIR=<dir>: each server writes a V8 CPU profile there when it exits.
  const profile = process.env.BENCH_CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, "--import", "tsx", fileURLToPath(new URL(file, import.meta.url))], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  if (file.includes("edge-server")) edgePid = child.pid!;
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const sample = /^skus (.+)$/.exec(line)?.[1];
      if (sample) skus = sample.split(",");
      const port = /^port (\d+)$/.exec(line)?.[1];
      if (port) resolve(Number(port));
    });
  });
}

interface Measured extends LoadResult {
  /** CPU the edge process spent per request of the run, in µs; undefined for direct calls. */
  edgeCpuUs: number | undefined;
}
const cpu = (r: Measured) => (r.edgeCpuUs === undefined ? "–" : r.edgeCpuUs.toFixed(0));
const fmt = (r: Measured) =>
  `${r.perSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  edge CPU ${cpu(r).padStart(4)} µs/req  errors ${r.errors}`;
const row = (what: string, r: Measured) => `| ${what} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${cpu(r)} | ${r.errors} |`;

try {
  // The benchmark is the load: lift the edge's rate limits for it.
  await fetch(`${consul}/v1/kv/${limitsKey}`, {
    method: "PUT",
    body: JSON.stringify({ perAddress: { perSecond: 1e6, burst: 1e6 }, perUser: { perSecond: 1e6, burst: 1e6 } }),
  });
  const catalogPort = await spawnServer("./catalog-server.ts");
  while (!(await isPassing(settings.consulAddr, name)) || !(await isPassing(settings.consulAddr, names[1]!))) await sleep(100);
  await spawnServer("./promotion-server.ts");
  while (!(await isPassing(settings.consulAddr, names[3]!))) await sleep(100);
  const cartPort = await spawnServer("./cart-server.ts");
  while (!(await isPassing(settings.consulAddr, names[2]!))) await sleep(100);
  const edgePort = await spawnServer("./edge-server.ts");
  while (skus.length === 0) await sleep(50);

  const path = "/bazaar.catalog.v1.CatalogService/ListProducts";
  const request = JSON.stringify({ pageSize: 20 });
  const post = (port: number) => async () => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: request });
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    await response.arrayBuffer();
  };
  const getUrl = `http://127.0.0.1:${edgePort}${path}?connect=v1&encoding=json&message=${encodeURIComponent(request)}`;
  const first = await fetch(getUrl);
  const etag = first.headers.get("etag")!;
  await first.arrayBuffer();
  const cached = async () => {
    const response = await fetch(getUrl, { headers: { "if-none-match": etag } });
    if (response.status !== 304) throw new Error(`status ${response.status}`);
    await response.arrayBuffer();
  };
  const hit = async () => {
    const response = await fetch(getUrl);
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    await response.arrayBuffer();
  };
  for (let i = 0; i < 200; i++) await post(edgePort)(); // warm the edge's discovery and connections

  // Add-to-cart as guests: each call adds one unit of a random stocked SKU to the next of many carts
  // (so no line nears its limits), with the cart's token in x-cart-token.
  const cartPath = "/bazaar.cart.v1.CartService";
  async function guestCarts(port: number, count: number) {
    const carts: { id: string; token: string }[] = [];
    for (let i = 0; i < count; i++) {
      const response = await fetch(`http://127.0.0.1:${port}${cartPath}/CreateCart`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      const body = (await response.json()) as { cart: { id: string }; cartToken: string };
      carts.push({ id: body.cart.id, token: body.cartToken });
    }
    return carts;
  }
  const addToCart = (port: number, carts: { id: string; token: string }[]) => {
    let next = 0;
    return async () => {
      const cart = carts[next++ % carts.length]!;
      const sku = skus[Math.floor(Math.random() * skus.length)]!;
      const response = await fetch(`http://127.0.0.1:${port}${cartPath}/AddCartItem`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-cart-token": cart.token },
        body: JSON.stringify({ cartId: cart.id, sku, quantity: 1 }),
      });
      if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
  };
  const directCarts = await guestCarts(cartPort, 2_000);
  const edgeCarts = await guestCarts(edgePort, 2_000);
  for (let i = 0; i < 50; i++) await addToCart(edgePort, edgeCarts)();

  const results: [string, Measured][] = [];
  const loads = [
    { label: `moderate (${moderateRate} req/s)`, run: (call: () => Promise<void>) => runOpenLoad({ call, ratePerSecond: moderateRate, durationMs, warmupMs: 1_000 }) },
    { label: `saturation (${saturated} in flight)`, run: (call: () => Promise<void>) => runLoad({ call, concurrency: saturated, durationMs, warmupMs: 1_000 }) },
  ];
  for (const { label, run } of loads) {
    process.stdout.write(`${label}, ${durationMs / 1000} s each\n`);
    for (const [what, call] of [
      ["direct to catalog, POST JSON", post(catalogPort)],
      ["through the edge, POST JSON (uncached)", post(edgePort)],
      ["through the edge, GET If-None-Match → 304 (cached)", cached],
      ["through the edge, GET → 200 (edge cache, refilled each max-age)", hit],
      ["direct to cart, AddCartItem POST JSON", addToCart(cartPort, directCarts)],
      ["through the edge, AddCartItem POST JSON", addToCart(edgePort, edgeCarts)],
    ] as const) {
      if (only && !`${label}: ${what}`.includes(only)) continue;
      const throughEdge = what.startsWith("through the edge");
      let made = 0;
      const cpuBefore = cpuMsOf(edgePid);
      const load = await run(() => (made++, call()));
      // Over the whole run (warm-up included), divided by every request it made.
      const result: Measured = { ...load, edgeCpuUs: throughEdge ? ((cpuMsOf(edgePid) - cpuBefore) * 1000) / made : undefined };
      process.stdout.write(`  ${what.padEnd(52)} ${fmt(result)}\n`);
      results.push([`${label}: ${what}`, result]);
    }
  }

  const body = [
    "ListProducts (page of 20, 1,000 products) and a guest's AddCartItem (one unit of a random stocked SKU,",
    "over 2,000 carts; the cart prices each answer from catalog + inventory) as Connect JSON. Catalog +",
    "inventory, cart and edge in processes of their own, the load generator (fetch) in another, all on the",
    "same machine (2 cores shared by all of them). The edge adds one gRPC hop (Consul-discovered, h2c) to the",
    "service. Cached: public GETs are answered by the edge for their max-age (304 on If-None-Match, else the",
    "stored 200).",
    "",
    `Moderate: an open loop at a fixed ${moderateRate} req/s (BENCH_MODERATE_RATE), well below saturation —`,
    "each request starts on schedule whether or not earlier ones returned, and its latency runs from that",
    "scheduled start, so queueing counts; req/s is the achieved rate. Saturation: a closed loop of",
    `${saturated} in flight (BENCH_CONCURRENCY), each sending its next request as soon as one returns. The edge`,
    "adds the difference between a row through the edge and the direct row of the same call. Edge CPU: the",
    "edge process's CPU time (user + system, /proc) over the run divided by the requests made; at 100 req/s",
    "it is higher than at saturation because each request pays alone for its wake-up, socket writes and the",
    "garbage collection V8 does while the process is mostly idle.",
    "",
    "| load: call | req/s | p50 ms | p99 ms | edge CPU µs/req | errors |",
    "|---|---|---|---|---|---|",
    ...results.map(([what, r]) => row(what, r)),
  ].join("\n");
  if (only) process.stdout.write(`BENCH_ONLY=${only}: not recorded\n`);
  else process.stdout.write(`recorded in ${recordSection(repositoryRoot, "Edge (bench:edge)", body)}\n`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await sleep(1500);
  await fetch(`${consul}/v1/kv/${limitsKey}`, { method: "DELETE" }).catch(() => undefined);
  const admin = new pg.Client({ connectionString: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  for (const service of names) await admin.query(`drop database if exists "bazaar_${service.replaceAll("-", "_")}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}
