// `npm start`: the infrastructure (reused or private), then every service and the edge, until Ctrl-C.
import { PrerequisiteError } from "./errors.ts";
import { ensureInfrastructure } from "./infrastructure.ts";
import { createSupervisor } from "./processes.ts";
import { discoverServices, startMesh } from "./services.ts";
import { stackSettings } from "./settings.ts";

const settings = stackSettings();
const supervisor = createSupervisor();
const say = (line: string) => process.stdout.write(`stack | ${line}\n`);

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
  const services = discoverServices(settings.root);
  say(services.length ? `starting ${services.map((s) => s.name).join(", ")}` : "no services yet (services/*/src/main.ts)");
  await startMesh(services, { supervisor, consulAddr: settings.consulAddr, env: infra.env });
  say(`Consul UI  http://${settings.consulAddr}/ui/`);
  if (services.some((s) => s.name === "edge")) say(`edge       http://127.0.0.1:${process.env.EDGE_PORT ?? 8080}/`);
  say("all healthy — Ctrl-C stops everything");
} catch (error) {
  process.stderr.write(`stack: ${error instanceof PrerequisiteError ? error.message : error instanceof Error ? error.message : String(error)}\n`);
  await shutdown(1);
}
