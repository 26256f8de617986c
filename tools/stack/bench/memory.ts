// `npm run bench:memory`: what `npm start` holds in memory, per process, at rest and after load. It
// runs the commands a user runs — `npm start` (traces off), `npm run seed`, `npm run load` — measures
// every service process's RSS (what `ps` shows: it counts the Node binary's pages each process shares)
// and PSS (shared pages split between the processes that map them: the sum is what the machine holds),
// and records the figures in BENCHMARKS.md.
//
// BENCH_MEMORY_SETTLE_S (default 60): seconds at rest before measuring; BENCH_MEMORY_LOAD_RATE
// (journeys/s, default 10) and BENCH_MEMORY_LOAD_S (default 120) for the load; BENCH_MEMORY_RECORD=0
// prints without recording. The machine should be otherwise quiet; the stack must not be running.
//
// A soak: BENCH_MEMORY_LOAD_S=1800. Memory is sampled every 15 s during the load; a load of 10 minutes
// or more is recorded as its own section, "Memory soak", with the trend of the total over its second
// half and a chart (docs/benchmarks/memory-soak.svg).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { repositoryRoot } from "../src/settings.ts";
import { recordSection } from "../../../services/platform/bench/report.ts";
import { lineChart } from "../../load/src/chart.ts";

const settleS = Number(process.env.BENCH_MEMORY_SETTLE_S ?? 60);
const loadRate = Number(process.env.BENCH_MEMORY_LOAD_RATE ?? 10);
const loadS = Number(process.env.BENCH_MEMORY_LOAD_S ?? 120);
const MiB = 1024;
const sampleEveryS = 15;
const soakFromS = 600;

interface ProcessMemory {
  name: string;
  rssKiB: number;
  pssKiB: number;
}

/** Each running process of a deployable under the repository (a bundle or TypeScript run by tsx), by its folder's name. */
function serviceProcesses(): ProcessMemory[] {
  const found: ProcessMemory[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const script = argv.find((arg) => /(?:^|\/)(?:services\/[\w-]+|edge)\/(?:dist\/main\.mjs|src\/main\.ts)$/.test(arg));
      if (!script) continue;
      const name = /(?:services\/([\w-]+)|(edge))\//.exec(script)!.slice(1).find(Boolean)!;
      const rollup = readFileSync(`/proc/${entry}/smaps_rollup`, "utf8");
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup)?.[1] ?? 0);
      found.push({ name, rssKiB: kib("Rss"), pssKiB: kib("Pss") });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** MiB per 10 minutes: the least-squares slope of `values` over `seconds`. */
function trendPer10Min(seconds: number[], values: number[]): number {
  const n = seconds.length;
  const mx = seconds.reduce((a, b) => a + b, 0) / n;
  const my = values.reduce((a, b) => a + b, 0) / n;
  const sxy = seconds.reduce((sum, x, i) => sum + (x - mx) * (values[i]! - my), 0);
  const sxx = seconds.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 600;
}

/** The soak's section: the chart of the stack's RSS and PSS over the load, written beside the docs, and the second half's trend. */
function soakSection(samples: { second: number; processes: ProcessMemory[] }[], journeys: string): string {
  const seconds = samples.map((s) => s.second);
  const sum = (field: "rssKiB" | "pssKiB") => samples.map((s) => s.processes.reduce((total, p) => total + p[field], 0) / MiB);
  const rss = sum("rssKiB");
  const pss = sum("pssKiB");
  const half = samples.findIndex((s) => s.second >= seconds.at(-1)! / 2);
  const chart = lineChart(`npm start under ${loadRate} journeys/s: memory of every service process`, "MiB", seconds, [
    { label: "RSS, all", color: "#264653", values: rss },
    { label: "PSS, all", color: "#2a9d8f", values: pss },
  ]);
  const svg = chart.slice(chart.indexOf("<svg"), chart.indexOf("</svg>") + "</svg>".length);
  const file = path.join(repositoryRoot, "docs", "benchmarks", "memory-soak.svg");
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${svg}\n`);
  const at = (values: number[], i: number) => values[i]!.toFixed(0);
  const last = samples.length - 1;
  return [
    `\`BENCH_MEMORY_LOAD_S=${loadS} npm run bench:memory\` — \`npm start\` (traces off), seeded, under \`npm run load -- --rate ${loadRate}\` for`,
    `${(loadS / 60).toFixed(0)} minutes (${journeys || "the load's summary was not read"}); every service process's RSS and PSS summed every ${sampleEveryS} s.`,
    "",
    "![RSS and PSS of every service process over the soak](docs/benchmarks/memory-soak.svg)",
    "",
    `| | first sample (${seconds[0]} s) | half-way (${seconds[half]} s) | last (${seconds[last]} s) | trend over the second half |`,
    "|---|---|---|---|---|",
    `| RSS, all processes | ${at(rss, 0)} MiB | ${at(rss, half)} MiB | ${at(rss, last)} MiB | ${trendPer10Min(seconds.slice(half), rss.slice(half)).toFixed(1)} MiB per 10 min |`,
    `| PSS, all processes | ${at(pss, 0)} MiB | ${at(pss, half)} MiB | ${at(pss, last)} MiB | ${trendPer10Min(seconds.slice(half), pss.slice(half)).toFixed(1)} MiB per 10 min |`,
  ].join("\n");
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(command, args, { cwd: repositoryRoot, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
}

async function finished(child: ChildProcess, what: string): Promise<void> {
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
}

const stack = run("npm", ["start"], { ...process.env, BAZAAR_JAEGER: "off" });
try {
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    stack.stdout!.on("data", (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (seen.includes("all healthy")) resolve();
    });
    stack.once("exit", (code) => reject(new Error(`npm start exited with ${code} before the stack was healthy`)));
  });
  stack.stdout!.resume();
  console.log("stack healthy; seeding");
  const seed = run("npm", ["run", "seed"]);
  seed.stdout!.resume();
  await finished(seed, "npm run seed");
  console.log(`at rest for ${settleS} s`);
  await sleep(settleS * 1000);
  const atRest = serviceProcesses();
  console.log(`load: ${loadRate} journeys/s for ${loadS} s`);
  const load = run("npm", ["run", "load", "--", "--rate", String(loadRate), "--duration", String(loadS), "--out", "/tmp/bench-memory-load.json"]);
  let summary = "";
  load.stdout!.on("data", (chunk: Buffer) => (summary = (summary + chunk.toString()).slice(-2048)));
  const loadStart = Date.now();
  const samples: { second: number; processes: ProcessMemory[] }[] = [];
  const sampler = setInterval(() => samples.push({ second: Math.round((Date.now() - loadStart) / 1000), processes: serviceProcesses() }), sampleEveryS * 1000);
  await finished(load, "npm run load").finally(() => clearInterval(sampler));
  const journeys = /(\d+) journeys in [^\n]*/.exec(summary)?.[0] ?? "";
  await sleep(10_000);
  const afterLoad = serviceProcesses();

  const total = (list: ProcessMemory[], field: "rssKiB" | "pssKiB") => list.reduce((sum, p) => sum + p[field], 0) / MiB;
  const names = [...new Set(atRest.map((p) => p.name))];
  const of = (list: ProcessMemory[], name: string) => list.find((p) => p.name === name);
  const mib = (kib: number | undefined) => (kib === undefined ? "–" : (kib / MiB).toFixed(0));
  const rows = names.map((name) => `| ${name} | ${mib(of(atRest, name)?.rssKiB)} | ${mib(of(atRest, name)?.pssKiB)} | ${mib(of(afterLoad, name)?.rssKiB)} | ${mib(of(afterLoad, name)?.pssKiB)} |`);
  const table = [
    "| process | RSS at rest MiB | PSS at rest MiB | RSS after load MiB | PSS after load MiB |",
    "|---|---|---|---|---|",
    ...rows,
    `| **all ${atRest.length}** | ${total(atRest, "rssKiB").toFixed(0)} | ${total(atRest, "pssKiB").toFixed(0)} | ${total(afterLoad, "rssKiB").toFixed(0)} | ${total(afterLoad, "pssKiB").toFixed(0)} |`,
  ].join("\n");
  console.log(table);
  console.log(journeys);
  const body = [
    "`npm run bench:memory` — `npm start` (traces off) with every service and the edge, one process each, seeded",
    `(\`npm run seed\`); measured after ${settleS} s at rest, then again 10 s after \`npm run load -- --rate ${loadRate} --duration ${loadS}\``,
    `(${journeys || "the load's summary was not read"}). RSS is what \`ps\` shows and counts the Node binary's pages that every`,
    "process shares; PSS splits shared pages between the processes that map them, so the PSS column sums to what",
    "the machine holds for them.",
    "",
    table,
  ].join("\n");
  const record = process.env.BENCH_MEMORY_RECORD !== "0";
  if (loadS >= soakFromS) {
    const soak = soakSection(samples, journeys);
    console.log(soak);
    if (record) console.log(`recorded in ${recordSection(repositoryRoot, "Memory soak (bench:memory)", soak)}`);
  } else if (record) {
    console.log(`recorded in ${recordSection(repositoryRoot, "Memory (bench:memory)", body)}`);
  }
} finally {
  // npm start stops everything it started on SIGINT (Ctrl-C); the whole group, as a terminal would.
  if (stack.exitCode === null) process.kill(-stack.pid!, "SIGINT");
  await new Promise((resolve) => (stack.exitCode === null ? stack.once("exit", resolve) : resolve(undefined)));
}
