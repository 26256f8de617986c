// Jaeger (v2, the all-in-one: an OTLP receiver, in-memory trace storage and a query API) for the local
// stack: started unless an OTLP endpoint is configured already (OTEL_EXPORTER_OTLP_ENDPOINT) or
// BAZAAR_JAEGER=off; every service and the edge send their spans to it. Tests start private ones on
// free ports. Built once from the Go module proxy by scripts/build-jaeger.sh (JAEGER_BIN instead).
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { scriptBuiltBinary } from "./binaries.ts";
import { freePort, isListening } from "./ports.ts";
import type { ManagedProcess, Supervisor } from "./processes.ts";
import type { Provisioned } from "./provisioned.ts";
import type { StackSettings } from "./settings.ts";
import { waitFor } from "./wait.ts";

export function jaegerBinary(settings: StackSettings): Promise<string> {
  return scriptBuiltBinary(settings.root, settings.cacheDir, {
    name: "Jaeger",
    script: "build-jaeger.sh",
    envVar: "JAEGER_BIN",
    instead: "install Go, set JAEGER_BIN, give OTEL_EXPORTER_OTLP_ENDPOINT, or set BAZAAR_JAEGER=off",
  });
}

export interface TraceStore extends Provisioned {
  /** For the services and the edge: OTEL_EXPORTER_OTLP_ENDPOINT. */
  env: Record<string, string>;
  /** Jaeger's query API (`/api/traces/<trace id>`), when it is the stack's Jaeger. */
  queryUrl?: string;
}

export interface JaegerPorts {
  /** OTLP over HTTP (spans arrive at /v1/traces). */
  otlp: number;
  /** The query API over HTTP (and Jaeger's UI page). */
  query: number;
  /** The query API over gRPC (unused here, but Jaeger always opens it). */
  queryGrpc: number;
}

/**
 * The configured OTLP endpoint (nothing started); nothing when BAZAAR_JAEGER=off; else the Jaeger at
 * 127.0.0.1:4318 (query :16686; JAEGER_OTLP_PORT, JAEGER_QUERY_PORT), started here unless it runs already.
 */
export async function ensureTraceStore(settings: StackSettings, supervisor: Supervisor, env: NodeJS.ProcessEnv = process.env): Promise<TraceStore | undefined> {
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return { name: "otlp", address: env.OTEL_EXPORTER_OTLP_ENDPOINT, env: {} };
  if (/^(off|false|0|no)$/i.test(env.BAZAAR_JAEGER ?? "")) return undefined;
  const ports: JaegerPorts = {
    otlp: Number(env.JAEGER_OTLP_PORT ?? 4318),
    query: Number(env.JAEGER_QUERY_PORT ?? 16686),
    queryGrpc: Number(env.JAEGER_QUERY_GRPC_PORT ?? 16685),
  };
  const running = { name: "jaeger", address: `http://127.0.0.1:${ports.otlp}`, env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.otlp}` }, queryUrl: `http://127.0.0.1:${ports.query}/` };
  if (await isListening("127.0.0.1", ports.otlp)) return running;
  const process = await startJaeger(settings, supervisor, ports, path.join(settings.stateDir, "jaeger"));
  return { ...running, process };
}

/** A private Jaeger on free ports (tests): its OTLP endpoint, query URL and process. */
export async function startPrivateJaeger(settings: StackSettings, supervisor: Supervisor, dir: string): Promise<TraceStore & { process: ManagedProcess }> {
  const ports = { otlp: await freePort(), query: await freePort(), queryGrpc: await freePort() };
  const process = await startJaeger(settings, supervisor, ports, dir);
  const endpoint = `http://127.0.0.1:${ports.otlp}`;
  return { name: "jaeger", address: endpoint, env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, queryUrl: `http://127.0.0.1:${ports.query}/`, process };
}

async function startJaeger(settings: StackSettings, supervisor: Supervisor, ports: JaegerPorts, dir: string): Promise<ManagedProcess> {
  const binary = await jaegerBinary(settings);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, "config.yaml");
  writeFileSync(config, jaegerConfig(ports));
  const processHandle = supervisor.start({ name: "jaeger", command: binary, args: ["--config", config] });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${ports.query}/api/services`).catch(() => undefined))?.ok === true, {
    what: `Jaeger at 127.0.0.1:${ports.otlp}`,
    abortReason: processHandle.exitReason,
  });
  return processHandle;
}

/**
 * The all-in-one's pipeline cut to what the stack uses: OTLP/HTTP in, memory storage (the newest
 * 20,000 traces), the query API; loopback only, no metrics port, warnings and errors only in the log.
 */
export function jaegerConfig(ports: JaegerPorts): string {
  return `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 20000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${ports.query}
    grpc:
      endpoint: 127.0.0.1:${ports.queryGrpc}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${ports.otlp}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}
