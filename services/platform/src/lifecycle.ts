import type { Logger } from "./logger.ts";

/**
 * Shutdown phases, in the order they run. Steps of one phase run together; a phase starts when the
 * previous one has finished.
 * - "health": report NOT_SERVING, so probes and Consul's check stop sending traffic.
 * - "deregister": leave Consul, so clients' discovery drops the instance.
 * - "stop-accepting": refuse new connections and work.
 * - "drain": let in-flight calls and consumers finish within the grace period.
 * - "flush": publish what the outbox relay still holds.
 * - "close": close connections (database, NATS, telemetry).
 */
export const shutdownPhases = ["health", "deregister", "stop-accepting", "drain", "flush", "close"] as const;
export type ShutdownPhase = (typeof shutdownPhases)[number];

export interface ShutdownContext {
  /** Epoch ms when the grace period ends. */
  deadline: number;
  /** Milliseconds left in the grace period (0 once it is over). */
  remainingMs(): number;
  /** Aborts when the grace period ends. */
  signal: AbortSignal;
  /** What started the shutdown, e.g. "SIGTERM". */
  reason: string;
}

export type ShutdownStep = (context: ShutdownContext) => Promise<void> | void;

export interface LifecycleOptions {
  logger: Logger;
  /** Time for everything up to and including "drain" to finish (default 10 000 ms). */
  graceMs?: number;
  /**
   * After a signal, the process exits this long after the shutdown began even if steps hang
   * (default graceMs + 5000, so "flush" and "close" get time after the grace period).
   */
  forceExitAfterMs?: number;
  /** Signals that start a shutdown; a second one forces an immediate exit. Default SIGTERM and SIGINT; [] for none. */
  signals?: NodeJS.Signals[];
  /** How the process ends after a signal-started shutdown (default process.exit); tests pass their own. */
  exit?: (code: number) => void;
  /**
   * Shut down as on SIGTERM when stdin ends: the lifeline of a supervisor that holds it open (the
   * stack's, which sets BAZAAR_LIFELINE=stdin). A supervisor that dies, even by SIGKILL, closes it, so
   * its services never live on as orphans still using the shared databases and NATS. Default: true
   * when BAZAAR_LIFELINE is "stdin" and signals are handled.
   */
  stdinLifeline?: boolean;
}

export interface Lifecycle {
  /** Adds a named step to a phase. Steps added after the shutdown began are refused. */
  onShutdown(phase: ShutdownPhase, name: string, step: ShutdownStep): void;
  /**
   * Runs every step once, phase by phase; later calls return the same promise. A step that throws is
   * logged and the shutdown goes on. Resolves true when every step succeeded. Does not exit.
   */
  shutdown(reason?: string): Promise<boolean>;
  readonly shuttingDown: boolean;
  /** Removes the signal handlers (for tests and embedders). */
  dispose(): void;
}

/**
 * Ordered, logged shutdown for one service process. On the first SIGTERM/SIGINT it runs the steps and
 * exits (0 when every step succeeded, 1 otherwise); a second signal exits at once with 1.
 */
export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const { logger } = options;
  const graceMs = options.graceMs ?? 10_000;
  const forceExitAfterMs = options.forceExitAfterMs ?? graceMs + 5000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  if (!(graceMs >= 0)) throw new RangeError(`createLifecycle: graceMs must be >= 0 (got ${graceMs})`);
  if (!(forceExitAfterMs >= 0)) throw new RangeError(`createLifecycle: forceExitAfterMs must be >= 0 (got ${forceExitAfterMs})`);

  const steps = new Map<ShutdownPhase, { name: string; step: ShutdownStep }[]>(shutdownPhases.map((p) => [p, []]));
  let running: Promise<boolean> | undefined;

  async function run(reason: string): Promise<boolean> {
    const started = Date.now();
    const deadline = started + graceMs;
    const grace = new AbortController();
    const graceTimer = setTimeout(() => grace.abort(new Error("shutdown grace period over")), graceMs);
    graceTimer.unref();
    const context: ShutdownContext = {
      deadline,
      remainingMs: () => Math.max(0, deadline - Date.now()),
      signal: grace.signal,
      reason,
    };
    logger.info({ reason, graceMs }, "shutting down");
    let ok = true;
    for (const phase of shutdownPhases) {
      await Promise.all(
        steps.get(phase)!.map(async ({ name, step }) => {
          const stepStarted = Date.now();
          logger.info({ phase, step: name }, "shutdown step");
          try {
            await step(context);
            logger.info({ phase, step: name, ms: Date.now() - stepStarted }, "shutdown step done");
          } catch (error) {
            ok = false;
            logger.error({ phase, step: name, err: error, ms: Date.now() - stepStarted }, "shutdown step failed");
          }
        }),
      );
    }
    clearTimeout(graceTimer);
    logger.info({ ms: Date.now() - started, ok }, "shutdown complete");
    return ok;
  }

  const shutdown = (reason = "requested") => (running ??= run(reason));

  const onSignal = (signal: NodeJS.Signals) => {
    if (running) {
      logger.warn({ signal }, "second signal during shutdown: exiting now");
      exit(1);
      return;
    }
    const force = setTimeout(() => {
      logger.error({ forceExitAfterMs }, "shutdown took too long: exiting now");
      exit(1);
    }, forceExitAfterMs);
    force.unref();
    void shutdown(signal).then((ok) => {
      clearTimeout(force);
      exit(ok ? 0 : 1);
    });
  };
  const signals = options.signals ?? ["SIGTERM", "SIGINT"];
  for (const signal of signals) process.on(signal, onSignal);
  const onLifelineEnd = () => {
    if (running) return;
    logger.warn("supervisor gone (stdin closed): shutting down");
    onSignal("SIGTERM");
  };
  const lifeline = options.stdinLifeline ?? (process.env.BAZAAR_LIFELINE === "stdin" && signals.length > 0);
  if (lifeline) {
    process.stdin.on("data", () => undefined); // nothing is sent on it: reading is only to see it end
    process.stdin.once("end", onLifelineEnd);
    // It never keeps the process alive by itself.
    (process.stdin as { unref?: () => void }).unref?.();
  }

  return {
    onShutdown(phase, name, step) {
      if (!steps.has(phase)) throw new TypeError(`lifecycle.onShutdown: unknown phase "${phase}" (one of ${shutdownPhases.join(", ")})`);
      if (typeof step !== "function") throw new TypeError(`lifecycle.onShutdown: step "${name}" must be a function`);
      if (running) throw new Error(`lifecycle.onShutdown: cannot add "${name}" once the shutdown has begun`);
      steps.get(phase)!.push({ name, step });
    },
    shutdown,
    get shuttingDown() {
      return running !== undefined;
    },
    dispose() {
      for (const signal of signals) process.removeListener(signal, onSignal);
      if (lifeline) process.stdin.removeListener("end", onLifelineEnd);
    },
  };
}
