// `npm run bench:edge`: Connect JSON through the edge against the same call made directly to the
// catalog (a page of ListProducts at 1,000 products), at moderate load and at saturation, uncached
// (POST) and cached (GET revalidated with If-None-Match → 304). The catalog and the edge each run
// in a process of their own; the load generator is this process. Prints the figures and records them
// in BENCHMARKS.md.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createSupervisor, ensureInfrastructure, isPassing, repositoryRoot, stackSettings } from "@bazaar/stack";
import { runLoad, type LoadResult } from "../../services/platform/bench/load.ts";
import { recordSection } from "../../services/platform/bench/report.ts";

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 8_000);
const moderate = Number(process.env.BENCH_MODERATE_CONCURRENCY ?? 4);
const saturated = Number(process.env.BENCH_CONCURRENCY ?? 32);

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
const name = `catalog-bench-${randomBytes(3).toString("hex")}`;
const limitsKey = `bazaar/edge-bench/${name}`;
const consul = `http://${settings.consulAddr}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...infra.env,
  BAZAAR_ENV: "development",
  LOG_LEVEL: "silent",
  BENCH_CATALOG_NAME: name,
  BENCH_LIMITS_KEY: limitsKey,
};
const children: ChildProcess[] = [];

function spawnServer(file: string): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL(file, import.meta.url))], { env, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const port = /^port (\d+)$/.exec(line)?.[1];
      if (port) resolve(Number(port));
    });
  });
}

const fmt = (r: LoadResult) =>
  `${r.perSecond.toFixed(0).padStart(6)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(6)} ms  p99 ${r.p99Ms.toFixed(2).padStart(6)} ms  errors ${r.errors}`;
const row = (what: string, r: LoadResult) => `| ${what} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} |`;

try {
  // The benchmark is the load: lift the edge's rate limits for it.
  await fetch(`${consul}/v1/kv/${limitsKey}`, {
    method: "PUT",
    body: JSON.stringify({ perAddress: { perSecond: 1e6, burst: 1e6 }, perUser: { perSecond: 1e6, burst: 1e6 } }),
  });
  const catalogPort = await spawnServer("./catalog-server.ts");
  while (!(await isPassing(settings.consulAddr, name))) await sleep(100);
  const edgePort = await spawnServer("./edge-server.ts");

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

  const results: [string, LoadResult][] = [];
  for (const [label, concurrency] of [
    ["moderate", moderate],
    ["saturation", saturated],
  ] as const) {
    process.stdout.write(`${label} (${concurrency} in flight, ${durationMs / 1000} s each)\n`);
    for (const [what, call] of [
      ["direct to catalog, POST JSON", post(catalogPort)],
      ["through the edge, POST JSON (uncached)", post(edgePort)],
      ["through the edge, GET If-None-Match → 304 (cached)", cached],
      ["through the edge, GET → 200 (edge cache, refilled each max-age)", hit],
    ] as const) {
      const result = await runLoad({ call, concurrency, durationMs, warmupMs: 1_000 });
      process.stdout.write(`  ${what.padEnd(52)} ${fmt(result)}\n`);
      results.push([`${label} (${concurrency}): ${what}`, result]);
    }
  }

  const body = [
    "ListProducts (page of 20, 1,000 products) as Connect JSON; catalog and edge in their own processes, the",
    "load generator (fetch, closed loop) in a third, all on the same machine. The edge adds one gRPC hop",
    "(Consul-discovered, h2c) to the catalog. Cached: public GETs are answered by the edge for their max-age",
    "(304 on If-None-Match, else the stored 200).",
    "",
    "| load: call | req/s | p50 ms | p99 ms | errors |",
    "|---|---|---|---|---|",
    ...results.map(([what, r]) => row(what, r)),
  ].join("\n");
  process.stdout.write(`recorded in ${recordSection(repositoryRoot, "Edge (bench:edge)", body)}\n`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await sleep(1500);
  await fetch(`${consul}/v1/kv/${limitsKey}`, { method: "DELETE" }).catch(() => undefined);
  const admin = new pg.Client({ connectionString: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
  await admin.end();
  await supervisor.stopAll();
}
