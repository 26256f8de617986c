import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { createBackoff, type RestartPolicy } from "./restart-policy.ts";

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
  /**
   * Start it again, with backoff, whenever it ends without the supervisor having stopped it (crash,
   * or an exit of its own, e.g. a SIGTERM from outside). Default: not restarted. `true`: the
   * default policy (0.5 s doubling to 30 s, reset after a minute up).
   */
  restart?: RestartPolicy | boolean;
}

export interface ManagedProcess {
  readonly name: string;
  /** The pid of the current (or last) child. */
  readonly pid: number;
  /** Why the process ended for good (exit code or signal); undefined while it runs or waits to be restarted. */
  exitReason(): string | undefined;
  /** Why its most recent child ended, restarted or not; undefined until one has. */
  lastExit(): string | undefined;
  /** How many times it has been started again. */
  readonly restarts: number;
  /** Resolves when the process has ended for good (stopped, or ended without a restart policy). */
  readonly exited: Promise<void>;
  /** SIGTERM to the whole process group, SIGKILL after the grace period; cancels a pending restart. */
  stop(): Promise<void>;
}

export interface Supervisor {
  start(options: StartOptions): ManagedProcess;
  /** Stops every process still running, the most recently started first; nothing restarts from then on. */
  stopAll(): Promise<void>;
  readonly processes: readonly ManagedProcess[];
}

const colours = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

/**
 * Starts child processes, each in its own process group (so a stop reaches its children too, and a
 * terminal's Ctrl-C reaches only us: we stop them in order), and writes their output line by line
 * prefixed with their name. Processes started with a restart policy come back when they end on
 * their own, and the supervisor says so (`stack | <name> exited with code 1: restarting in 0.5 s`).
 */
export function createSupervisor(options: { write?: (line: string) => void; colour?: boolean } = {}): Supervisor {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const colour = options.colour ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
  const processes: ManagedProcess[] = [];
  let closing = false;

  function start(o: StartOptions): ManagedProcess {
    const tag = colour ? `\u001b[${colours[processes.length % colours.length]}m${o.name}\u001b[0m` : o.name;
    const backoff = o.restart ? createBackoff(o.restart === true ? {} : o.restart) : undefined;
    let child!: ChildProcess;
    let childEnded!: Promise<void>;
    let childReason: string | undefined;
    let lastReason: string | undefined;
    let finalReason: string | undefined;
    let restarts = 0;
    let stopRequested = false;
    let pendingRestart: NodeJS.Timeout | undefined;
    let ended!: () => void;
    const exited = new Promise<void>((resolve) => (ended = resolve));
    const endForGood = (reason: string) => {
      finalReason = reason;
      ended();
    };

    const launch = () => {
      const startedAt = Date.now();
      const current = spawn(o.command, o.args ?? [], {
        cwd: o.cwd,
        // stdin is a lifeline: held open here and never written, it ends when this process dies, even by
        // SIGKILL, and the platform's services then shut down (BAZAAR_LIFELINE) instead of living on.
        env: { ...(o.env ?? process.env), BAZAAR_LIFELINE: "stdin" },
        detached: true,
        stdio: ["pipe", "pipe", "pipe"],
        ...(o.uid === undefined ? {} : { uid: o.uid, gid: o.gid ?? o.uid }),
      });
      child = current;
      childReason = undefined;
      for (const stream of [current.stdout, current.stderr]) {
        createInterface({ input: stream }).on("line", (line) => write(`${tag} | ${line}`));
      }
      childEnded = new Promise<void>((resolve) => {
        const done = (reason: string, canRestart: boolean) => {
          if (child !== current || childReason !== undefined) return;
          childReason = reason;
          lastReason = reason;
          resolve();
          if (!backoff || !canRestart || stopRequested || closing) return endForGood(reason);
          const delayMs = backoff.next(Date.now() - startedAt);
          restarts += 1;
          write(`stack | ${o.name} ${reason}: restarting in ${delayMs / 1000} s (restart ${restarts})`);
          pendingRestart = setTimeout(() => {
            pendingRestart = undefined;
            if (stopRequested || closing) endForGood(reason);
            else launch();
          }, delayMs);
        };
        current.once("exit", (code, signal) => done(signal ? `killed by ${signal}` : `exited with code ${code}`, true));
        // A command that cannot be spawned will not start on a second try either.
        current.once("error", (error) => done(`could not start ${o.command}: ${error.message}`, false));
      });
    };
    launch();

    const managed: ManagedProcess = {
      name: o.name,
      get pid() {
        return child.pid ?? -1;
      },
      get restarts() {
        return restarts;
      },
      exitReason: () => finalReason,
      lastExit: () => lastReason,
      exited,
      async stop() {
        stopRequested = true;
        if (pendingRestart) {
          clearTimeout(pendingRestart);
          pendingRestart = undefined;
          endForGood(childReason ?? "stopped");
        }
        await stopProcess(child, childEnded, () => childReason !== undefined, o.stopTimeoutMs ?? 10_000);
        await exited;
      },
    };
    processes.push(managed);
    return managed;
  }

  async function stopAll(): Promise<void> {
    closing = true;
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
