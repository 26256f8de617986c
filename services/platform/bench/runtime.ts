// `npm run bench:runtime`: unary RPC throughput and latency through the whole runtime (Consul
// discovery, interceptors, metrics, tracing) against a bare connect-node server — the runtime twice,
// its spans exported to a private Jaeger (OTLP, batched) and not exported — and event
// publish → consume lag at 1,000 events/s through outbox, relay, JetStream and an inbox consumer.
// Prints the figures and records them in BENCHMARKS.md.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connect } from "nats";
import { natsServers } from "../src/events/nats-servers.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createSupervisor, ensureInfrastructure, isPassing, repositoryRoot, stackSettings, startPrivateJaeger } from "@bazaar/stack";
import {
  clientFor,
  clientTracingInterceptor,
  closeAllClients,
  createMetricsRegistry,
  createService,
  loadConfig,
  platformConfigSchema,
  publish,
  redMetricsInterceptor,
  startTelemetry,
  streamName,
  type Database,
} from "../src/index.ts";
import { dropDatabase, thingHappened } from "../test/fixtures/events/support.ts";
import { TestService } from "../test/gen/bazaar/platformtest/v1/test_service_pb.ts";
import { CreateThingTable, Thing } from "../test/fixtures/runtime/test-service.ts";
import { runLoad, summarize, type LoadResult } from "./load.ts";
import { recordSection } from "./report.ts";

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const eventRate = Number(process.env.BENCH_EVENT_RATE ?? 1000);

const settings = stackSettings();
const supervisor = createSupervisor({ write: () => {} });
const infra = await ensureInfrastructure(settings, supervisor);
// Export is off unless a server is started with an endpoint of its own (below).
const env: NodeJS.ProcessEnv = { ...process.env, ...infra.env, LOG_LEVEL: "silent", OTEL_EXPORTER_OTLP_ENDPOINT: "" };
const telemetry = startTelemetry({ serviceName: "bench-caller" });
const children: ChildProcess[] = [];

function spawnServer(file: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL(file, import.meta.url))], {
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const port = /^port (\d+)$/.exec(line)?.[1];
      if (port) resolve(Number(port));
    });
  });
}

/**
 * Commits `eventRate` events a second for `durationMs`, each in its own transaction, from a service in
 * this process, consumed by a service in another process; returns the commit → handler lag.
 */
async function measureLag(consumerConcurrency: number) {
  // A domain of its own, so the consumer starts on an empty stream rather than catching up on history.
  const lagName = `bench-lag-${randomBytes(3).toString("hex")}`;
  const domain = lagName.replaceAll("-", "");
  const event = thingHappened(domain);
  const service = await createService<Database>(
    {
      name: lagName,
      database: { entities: [Thing], migrations: [{ name: "test_0001_thing", class: CreateThingTable }] },
      publishes: [domain],
      setup: () => ({ routes: () => {} }),
    },
    { config: loadConfig(platformConfigSchema, env) },
  );
  const total = Math.round((eventRate * durationMs) / 1000);
  const consumerName = `${lagName}-consumer`;
  const consumer = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./lag-consumer.ts", import.meta.url))], {
    env: { ...env, LAG_DOMAIN: domain, LAG_TOTAL: String(total), LAG_NAME: consumerName, LAG_CONCURRENCY: String(consumerConcurrency) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(consumer);
  const lines = createInterface({ input: consumer.stdout! });
  const received = new Promise<number[]>((resolve) =>
    lines.on("line", (line) => line.startsWith("lags ") && resolve(JSON.parse(line.slice(5)) as number[])),
  );
  await new Promise<void>((resolve) => lines.on("line", (line) => line === "ready" && resolve()));
  process.stdout.write(`event lag: ${total} events at ${eventRate}/s, consumer handling ${consumerConcurrency} at once…\n`);
  const started = Date.now();
  const inFlight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / eventRate;
    if (due > Date.now()) await sleep(due - Date.now());
    inFlight.push(
      service.runtime.database.transaction((em) =>
        publish(em, event, create(event, { thingId: `${i}`, name: String(Date.now()) } as never)),
      ),
    );
  }
  await Promise.all(inFlight);
  const publishSeconds = (Date.now() - started) / 1000;
  const lags = await Promise.race([received, sleep(60_000).then(() => [] as number[])]);
  const lag = summarize(lags, total - lags.length, durationMs);
  await service.stop();
  const nats = await connect(natsServers(infra.env.NATS_URL!));
  await (await nats.jetstreamManager()).streams.delete(streamName(domain));
  await nats.close();
  await dropDatabase(`bazaar_${lagName.replaceAll("-", "_")}`);
  await dropDatabase(`bazaar_${consumerName.replaceAll("-", "_")}`);
  process.stdout.write(`  received ${lags.length}/${total}, lag p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms\n`);
  return { consumerConcurrency, total, received: lags.length, publishSeconds, p50Ms: lag.p50Ms, p99Ms: lag.p99Ms };
}

const fmt = (r: LoadResult) =>
  `${Math.round(r.perSecond).toLocaleString("en")} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors}`;

try {
  // 1. A bare connect-node server: the baseline.
  const barePort = await spawnServer("./bare-server.ts");
  const bare = createClient(TestService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${barePort}` }));

  // 2. The same handler on the whole runtime (database, NATS, Consul, server interceptors, metrics,
  //    tracing), called through Consul discovery with the client interceptors a service uses: once
  //    with its spans going nowhere, once exporting them to a Jaeger (every call sampled).
  const jaegerDir = mkdtempSync(path.join(tmpdir(), "bazaar-bench-jaeger-"));
  const jaeger = await startPrivateJaeger(settings, supervisor, jaegerDir);
  const registry = createMetricsRegistry({ service: "bench-caller" });
  const runtimeClient = async (name: string, extraEnv: NodeJS.ProcessEnv) => {
    await spawnServer("../test/fixtures/runtime/main.ts", { TEST_SERVICE_NAME: name, ...extraEnv });
    while (!(await isPassing(settings.consulAddr, name))) await sleep(100);
    return clientFor(TestService, {
      consulAddr: settings.consulAddr,
      serviceName: name,
      interceptors: [clientTracingInterceptor(), redMetricsInterceptor(registry, { side: "client" })],
    });
  };
  const suffix = randomBytes(3).toString("hex");
  const exportingName = `bench-exporting-${suffix}`;
  const clients = {
    bare,
    runtime: await runtimeClient(`bench-${suffix}`, {}),
    exporting: await runtimeClient(exportingName, jaeger.env),
  };
  type Server = keyof typeof clients;
  const servers: Server[] = ["bare", "runtime", "exporting"];

  // Rounds in turn, best of each: the machine is shared, so one slow round says little.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const results: Partial<Record<Server, LoadResult>> = {};
  const best = (a: LoadResult | undefined, b: LoadResult) => (a && a.perSecond >= b.perSecond ? a : b);
  for (let round = 1; round <= rounds; round++) {
    process.stdout.write(`round ${round}/${rounds}: ${concurrency} concurrent Echo calls, ${durationMs} ms each (calls/s | p50 | p99 | errors)\n`);
    // Who goes first rotates, so warm-up and drift favour none.
    for (let i = 0; i < servers.length; i++) {
      const which = servers[(i + round - 1) % servers.length]!;
      const result = await runLoad({ call: () => clients[which].echo({ message: "hello" }), concurrency, durationMs });
      process.stdout.write(`  ${which.padEnd(9)} ${fmt(result)}\n`);
      results[which] = best(results[which], result);
    }
  }
  const { bare: bareResult, runtime: runtimeResult, exporting: exportingResult } = results;
  if (!bareResult || !runtimeResult || !exportingResult) throw new Error("BENCH_ROUNDS must be at least 1");
  // The exporting server's spans did reach Jaeger (else the row would measure nothing).
  const exported = ((await (await fetch(`${jaeger.queryUrl}api/services`)).json()) as { data: string[] | null }).data ?? [];
  if (!exported.includes(exportingName)) throw new Error(`Jaeger received no spans from ${exportingName}`);
  await jaeger.process.stop();
  rmSync(jaegerDir, { recursive: true, force: true });

  // 3. Event lag, with a consumer handling one message at a time (stream order) and eight at once.
  const lagRuns = [];
  for (const consumerConcurrency of [1, 8]) lagRuns.push(await measureLag(consumerConcurrency));

  const overhead = (1 - runtimeResult.perSecond / bareResult.perSecond) * 100;
  const exportCost = (1 - exportingResult.perSecond / runtimeResult.perSecond) * 100;
  const body = `
\`npm run bench:runtime\` — unary \`Echo\` over gRPC (h2c), ${concurrency} calls in flight, ${durationMs / 1000} s measured after a 2 s warm-up, best of ${rounds} rounds, the first server rotating; the load generator shares the 2 cores with the servers, PostgreSQL, NATS, Consul and Jaeger.

| server | calls/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
| bare connect-node (no interceptors, fixed address) | ${fmt(bareResult)} |
| Bazaar runtime (Consul discovery, tracing, RED metrics, error mapping, call context; client tracing + metrics; no bearer token), spans not exported | ${fmt(runtimeResult)} |
| the same, its spans exported to Jaeger (OTLP/HTTP, batched; every call sampled) | ${fmt(exportingResult)} |

Runtime throughput is ${overhead >= 0 ? `${overhead.toFixed(1)} % below` : `${(-overhead).toFixed(1)} % above`} bare (aim: within 20 %). Exporting every span costs ${exportCost >= 0 ? `${exportCost.toFixed(1)} %` : `nothing measurable (${(-exportCost).toFixed(1)} % above)`} of the runtime's throughput (Jaeger runs on the same 2 cores).

Event publish → consume lag: events committed at ${eventRate}/s for ${durationMs / 1000} s, each in its own transaction, through outbox → relay → JetStream → a durable consumer (inbox row and handler in one transaction) in another service process; lag from just before commit to the handler. Aim: p99 under 50 ms.

| consumer | events received | publishing took | lag p50 ms | lag p99 ms |
|---|---|---|---|---|
${lagRuns.map((r) => `| ${r.consumerConcurrency === 1 ? "ordered (default): messages received together applied in one transaction" : `${r.consumerConcurrency} at once, one transaction each`} | ${r.received}/${r.total} | ${r.publishSeconds.toFixed(1)} s | ${r.p50Ms} | ${r.p99Ms} |`).join("\n")}
`;
  process.stdout.write(`recorded in ${recordSection(repositoryRoot, "Runtime (bench:runtime)", body)}\n`);
} finally {
  closeAllClients();
  for (const child of children) child.kill("SIGTERM");
  await telemetry.shutdown();
  await supervisor.stopAll();
}
process.exit(0);
