// The infrastructure for Tilt's no-cluster mode: PostgreSQL, NATS JetStream and Consul (and Mailpit, the
// notification service's SMTP server, unless SMTP_URL is given; and Jaeger, the trace store, unless
// OTEL_EXPORTER_OTLP_ENDPOINT is given or BAZAAR_JAEGER=off), each the one
// already answering at its configured address (DATABASE_URL, NATS_URL, CONSUL_HTTP_ADDR; defaults fit
// the local stack) or a private instance started there — the same code as `npm start`. Stays up until
// Tilt stops it (private instances stop with it). Writes <state dir>/tilt-infrastructure.ready once
// everything answers: the Tiltfile's readiness probe. Run with tsx (@bazaar/stack is TypeScript).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createSupervisor, ensureInfrastructure, ensureMailServer, ensureTraceStore, stackSettings } from "@bazaar/stack";

const settings = stackSettings();
const ready = path.join(settings.stateDir, "tilt-infrastructure.ready");
const supervisor = createSupervisor();
const say = (line) => process.stdout.write(`infrastructure | ${line}\n`);
rmSync(ready, { force: true });

let stopping;
const stop = (code) => {
  stopping ??= (async () => {
    rmSync(ready, { force: true });
    await supervisor.stopAll();
    process.exit(code);
  })();
  return stopping;
};
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

try {
  const infra = await ensureInfrastructure(settings, supervisor);
  for (const p of [infra.postgres, infra.nats, infra.consul]) {
    say(`${p.name.padEnd(8)} ${p.address}${p.process ? " (private instance)" : " (already running)"}`);
  }
  const mail = await ensureMailServer(settings, supervisor);
  say(`${mail.name.padEnd(8)} ${mail.address}${mail.inboxUrl ? ` — inbox ${mail.inboxUrl}` : ""}`);
  const traces = await ensureTraceStore(settings, supervisor);
  say(traces ? `${traces.name.padEnd(8)} ${traces.address}${traces.queryUrl ? ` — query API ${traces.queryUrl}api/traces/<trace_id>` : ""}` : "traces   not exported (BAZAAR_JAEGER=off)");
  mkdirSync(settings.stateDir, { recursive: true });
  writeFileSync(ready, `${new Date().toISOString()}\n`);
  say(`ready — Consul UI http://${settings.consulAddr}/ui/`);
  setInterval(() => {}, 1 << 30);
} catch (error) {
  process.stderr.write(`infrastructure: ${error instanceof Error ? error.message : String(error)}\n`);
  await stop(1);
}
