// `npm start`: the infrastructure (reused or private), then every service and the edge, until Ctrl-C.
import path from "node:path";
import { PrerequisiteError } from "./errors.ts";
import { ensureInfrastructure } from "./infrastructure.ts";
import { ensureTraceStore } from "./jaeger.ts";
import { ensureMailServer } from "./mailpit.ts";
import { natsAdminUser } from "./nats.ts";
import { createSupervisor } from "./processes.ts";
import { natsClients } from "./nats-users.ts";
import { discoverServices, startMesh } from "./services.ts";
import { stackSettings } from "./settings.ts";
import { buildStorefront } from "./storefront.ts";

const say = (line: string) => process.stdout.write(`stack | ${line}\n`);
let settings: ReturnType<typeof stackSettings>;
try {
  settings = stackSettings(process.env, process.argv.slice(2));
} catch (error) {
  process.stderr.write(`stack: ${(error as Error).message}\n`);
  process.exit(2);
}
const supervisor = createSupervisor();

let stopping: Promise<void> | undefined;
function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    say("stopping…");
    await supervisor.stopAll();
    say("stopped");
    process.exit(code);
  })();
  return stopping;
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

try {
  const infra = await ensureInfrastructure(settings, supervisor);
  for (const p of [infra.postgres, infra.nats, infra.consul]) {
    say(`${p.name.padEnd(8)} ${p.address}${p.process ? " (private instance)" : " (already running)"}`);
  }
  say(
    infra.nats.process
      ? `nats     a user per service; tools: NATS_URL from ${path.join(settings.stateDir, "nats", "users.json")} (user ${natsAdminUser})`
      : "nats     shared server: no per-service users (set NATS_URL to a free port for the stack's own, with them)",
  );
  // The notification service's SMTP server: SMTP_URL, or the stack's Mailpit and its web inbox.
  const mail = await ensureMailServer(settings, supervisor);
  say(`${mail.name.padEnd(8)} ${mail.address}${mail.process ? " (private instance)" : " (already running)"}${mail.inboxUrl ? ` — inbox ${mail.inboxUrl}` : ""}`);
  // Where every service and the edge send their spans: OTEL_EXPORTER_OTLP_ENDPOINT, or the stack's Jaeger.
  const traces = await ensureTraceStore(settings, supervisor);
  say(
    traces
      ? `${traces.name.padEnd(8)} ${traces.address}${traces.process ? " (private instance)" : traces.queryUrl ? " (already running)" : " (OTEL_EXPORTER_OTLP_ENDPOINT)"}`
      : "traces   not exported (BAZAAR_JAEGER=off)",
  );
  // The edge serves the shop's pages from the storefront's build.
  await buildStorefront(settings.root, say);
  const services = discoverServices(settings.root);
  say(services.length ? `starting ${services.map((s) => s.name).join(", ")}` : "no services yet (services/*/src/main.ts)");
  // Each edge instance on a port of its own, counting up from EDGE_PORT.
  const edgePort = Number(process.env.EDGE_PORT ?? 8080);
  const natsUsers = new Set(natsClients(services, settings.root).map((s) => s.name));
  await startMesh(services, {
    supervisor,
    consulAddr: settings.consulAddr,
    // NATS without the admin's credentials; each service that uses it reaches it as its own user.
    env: { ...infra.env, NATS_URL: infra.nats.address, ...mail.env, ...traces?.env },
    instances: settings.instances,
    instanceEnv: (service, n): Record<string, string> => ({
      ...(natsUsers.has(service.name) ? { NATS_URL: infra.nats.urlFor(service.name) } : {}),
      ...(service.name === "edge" ? { EDGE_PORT: String(edgePort + n - 1) } : {}),
    }),
    // As an orchestrator would: a process that ends on its own comes back, 0.5 s doubling to 30 s.
    restart: true,
  });
  say(`Consul UI  http://${settings.consulAddr}/ui/`);
  if (mail.inboxUrl) say(`mail inbox ${mail.inboxUrl} (every email the shop sends)`);
  if (traces?.queryUrl) say(`traces     ${traces.queryUrl}api/traces/<trace_id> (Jaeger's query API; npm run trace <trace_id> draws one, the edge logs each request's trace_id)`);
  if (services.some((s) => s.name === "edge")) {
    for (let n = 1; n <= settings.instances; n++) say(`edge       http://127.0.0.1:${edgePort + n - 1}/ (API docs at /docs)`);
    say(`shop       http://127.0.0.1:${edgePort}/ (after npm run seed)`);
  }
  say(`all healthy${settings.instances > 1 ? ` (${settings.instances} instances of each)` : ""}; a process that ends is restarted — Ctrl-C stops everything`);
} catch (error) {
  process.stderr.write(`stack: ${error instanceof PrerequisiteError ? error.message : error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1);
}
