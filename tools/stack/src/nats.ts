import { mkdirSync } from "node:fs";
import path from "node:path";
import { connect } from "nats";
import { findBinary, goInstall } from "./binaries.ts";
import { PrerequisiteError } from "./errors.ts";
import { isListening } from "./ports.ts";
import type { Supervisor } from "./processes.ts";
import type { Provisioned } from "./provisioned.ts";
import { hostPort, type StackSettings } from "./settings.ts";
import { waitFor } from "./wait.ts";

type Answer = "jetstream" | "no-jetstream" | "none";

/** Whether a NATS server answers at `url`, and whether JetStream is enabled on it. */
export async function natsAnswers(url: string): Promise<Answer> {
  let nc;
  try {
    nc = await connect({ servers: url, timeout: 1500, reconnect: false });
  } catch {
    return "none";
  }
  try {
    const jsm = await nc.jetstreamManager({ timeout: 1500 });
    await jsm.getAccountInfo();
    return "jetstream";
  } catch {
    return "no-jetstream";
  } finally {
    await nc.close();
  }
}

/** Uses the NATS at `settings.natsUrl`, or starts a private nats-server with JetStream there. */
export async function ensureNats(settings: StackSettings, supervisor: Supervisor): Promise<Provisioned> {
  const url = settings.natsUrl;
  const answer = await natsAnswers(url);
  if (answer === "jetstream") return { name: "nats", address: url };
  if (answer === "no-jetstream") {
    throw new PrerequisiteError(`NATS at ${url} has JetStream disabled: restart it with -js, or set NATS_URL to another server`);
  }
  const { host, port } = hostPort(url, 4222);
  if (await isListening(host, port)) {
    throw new PrerequisiteError(`something listens at ${host}:${port} but is not NATS: fix NATS_URL`);
  }
  const binary =
    findBinary("nats-server", [path.join(settings.cacheDir, "bin")]) ??
    (await goInstall(
      settings.cacheDir,
      "nats-server",
      // The version the machine's own nats-server is (Debian's), pinned.
      "github.com/nats-io/nats-server/v2@v2.9.10",
      "install nats-server (e.g. apt-get install nats-server) or Go, or set NATS_URL to a running server",
    ));
  const storeDir = path.join(settings.stateDir, "nats");
  mkdirSync(storeDir, { recursive: true });
  const processHandle = supervisor.start({
    name: "nats",
    command: binary,
    args: ["-a", host, "-p", String(port), "-js", "-sd", storeDir],
  });
  await waitFor(async () => (await natsAnswers(url)) === "jetstream", {
    what: `the private NATS at ${host}:${port}`,
    abortReason: processHandle.exitReason,
  });
  return { name: "nats", address: url, process: processHandle };
}
