import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { findBinary } from "./binaries.ts";
import { PrerequisiteError } from "./errors.ts";
import { freePort, isListening } from "./ports.ts";
import type { Supervisor } from "./processes.ts";
import type { Provisioned } from "./provisioned.ts";
import { hostPort, type StackSettings } from "./settings.ts";
import { waitFor } from "./wait.ts";

const run = promisify(execFile);
/** The last MPL-2.0 release; later ones are BSL. */
export const consulVersion = "1.16.3";

/** Whether a Consul agent answers at host:port with an elected leader. */
export async function consulAnswers(addr: string): Promise<boolean> {
  try {
    const response = await fetch(`http://${addr}/v1/status/leader`, { signal: AbortSignal.timeout(1500) });
    return response.ok && ((await response.json()) as string) !== "";
  } catch {
    return false;
  }
}

/** Uses the Consul agent at `settings.consulAddr`, or starts a private dev-mode agent there. */
export async function ensureConsul(settings: StackSettings, supervisor: Supervisor): Promise<Provisioned> {
  const addr = settings.consulAddr;
  if (await consulAnswers(addr)) return { name: "consul", address: addr };
  const { host, port } = hostPort(addr, 8500);
  if (await isListening(host, port)) {
    // An agent that is up but has no leader yet answers soon; anything else is not Consul.
    await waitFor(() => consulAnswers(addr), { what: `Consul at ${addr} (something listens there)`, timeoutMs: 10_000 });
    return { name: "consul", address: addr };
  }
  const binary = await consulBinary(settings);
  // Private ports for the agent's own traffic, so a second agent on the machine never collides.
  const [serfLan, serfWan, server] = [await freePort(), await freePort(), await freePort()];
  // A dev agent keeps its state relative to its working directory (it reads "./services" as service
  // definitions): give it a directory of its own under the stack's state, never the repository root.
  const workDir = path.join(settings.stateDir, "consul");
  mkdirSync(workDir, { recursive: true });
  const processHandle = supervisor.start({
    name: "consul",
    command: binary,
    cwd: workDir,
    args: [
      "agent", "-dev", "-node=bazaar-dev", "-log-level=warn",
      "-bind=127.0.0.1", `-client=${host}`, `-http-port=${port}`,
      "-dns-port=-1", "-grpc-port=-1", "-grpc-tls-port=-1",
      `-serf-lan-port=${serfLan}`, `-serf-wan-port=${serfWan}`, `-server-port=${server}`,
    ],
  });
  await waitFor(() => consulAnswers(addr), {
    what: `the private Consul agent at ${addr}`,
    abortReason: processHandle.exitReason,
  });
  return { name: "consul", address: addr, process: processHandle };
}

/** consul from PATH, or the cached build, or a new build from the Go module proxy (once). */
export async function consulBinary(settings: StackSettings): Promise<string> {
  const cached = path.join(settings.cacheDir, `consul-${consulVersion}`, "consul");
  const found = findBinary("consul") ?? (existsSync(cached) ? cached : undefined);
  if (found) return found;
  process.stderr.write(`stack: building Consul ${consulVersion} from the Go module proxy (once, a few minutes)\n`);
  try {
    const { stdout } = await run("bash", [path.join(settings.root, "scripts/build-consul.sh")], {
      env: { ...process.env, BAZAAR_CACHE: settings.cacheDir, CONSUL_VERSION: consulVersion },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim().split("\n").at(-1)!;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    const reason = stderr.trim().split("\n").at(-1) ?? String(error);
    throw new PrerequisiteError(`Consul is not reachable and could not be built (${reason}): install Go >= 1.21, or consul ${consulVersion}, or set CONSUL_HTTP_ADDR`);
  }
}
