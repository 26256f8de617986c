import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

export interface StartOptions {
  /** Prefix of every log line, and the process's name in errors. */
  name: string;
  command: string;
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (when the stack runs as root, for PostgreSQL). */
  uid?: number;
  gid?: number;
  /** Grace period after SIGTERM before SIGKILL (default 10 s). */
  stopTimeoutMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Why the process ended, once it has (exit code or signal); undefined while it runs. */
  exitReason(): string | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM to the whole process group, SIGKILL after the grace period. */
  stop(): Promise<void>;
}

export interface Supervisor {
  start(options: StartOptions): ManagedProcess;
  /** Stops every process still running, the most recently started first. */
  stopAll(): Promise<void>;
  readonly processes: readonly ManagedProcess[];
}

const colours = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

/**
 * Starts child processes, each in its own process group (so a stop reaches its children too, and a
 * terminal's Ctrl-C reaches only us: we stop them in order), and writes their output line by line
 * prefixed with their name.
 */
export function createSupervisor(options: { write?: (line: string) => void; colour?: boolean } = {}): Supervisor {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const colour = options.colour ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const processes: ManagedProcess[] = [];

  function start(o: StartOptions): ManagedProcess {
    const child = spawn(o.command, o.args ?? [], {
      cwd: o.cwd,
      env: o.env ?? process.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.gid ?? o.uid }),
    });
    const tag = colour ? `\u001b[${colours[processes.length % colours.length]}m${o.name}\u001b[0m` : o.name;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => write(`${tag} | ${line}`));
    }
    let reason: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
      child.once("error", (error) => {
        reason = `could not start ${o.command}: ${error.message}`;
        resolve();
      });
    });
    const managed: ManagedProcess = {
      name: o.name,
      pid: child.pid ?? -1,
      exitReason: () => reason,
      exited,
      stop: () => stopProcess(child, exited, () => reason !== undefined, o.stopTimeoutMs ?? 10_000),
    };
    processes.push(managed);
    return managed;
  }

  async function stopAll(): Promise<void> {
    for (const p of [...processes].reverse()) await p.stop();
  }

  return { start, stopAll, processes };
}

async function stopProcess(child: ChildProcess, exited: Promise<void>, hasExited: () => boolean, graceMs: number) {
  if (child.pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  };
  if (!hasExited()) {
    signalGroup("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped) {
      signalGroup("SIGKILL");
      await exited;
    }
  }
  // Whatever the leader left behind in its group goes with it.
  signalGroup("SIGKILL");
}
