// Background work repeated on a timer (sweepers, recovery scans): one run at a time — runNow() joins
// the run under way — the next run `intervalMs` after the last one ended, a failed run logged and
// retried on the next tick, and stop() waiting for the run under way. A BackgroundTask of the service.
import type { Logger } from "./logger.ts";

export interface PeriodicOptions<T> {
  /** One run; `stopped()` turns true when the service is stopping (end a long run early). */
  run(stopped: () => boolean): Promise<T>;
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Delay before the first run (default intervalMs; 0 runs it at once, e.g. recovery at start). */
  firstRunMs?: number;
  logger: Logger;
  /** Names the work in the log line of a failed run, e.g. "cart sweep". */
  what: string;
}

export interface Periodic<T> {
  /** Runs now (or joins the run under way) and resolves with its result. */
  runNow(): Promise<T>;
  /** Stops for good, after the run under way. */
  stop(): Promise<void>;
}

export function startPeriodic<T>(options: PeriodicOptions<T>): Periodic<T> {
  let running: Promise<T> | undefined;
  let stopped = false;
  const isStopped = () => stopped;

  function runNow(): Promise<T> {
    running ??= options.run(isStopped).finally(() => (running = undefined));
    return running;
  }

  const tick = () => {
    if (stopped) return;
    runNow()
      .catch((error: unknown) => {
        if (!stopped) options.logger.warn({ err: error }, `${options.what} failed; retrying`);
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.intervalMs).unref();
      });
  };
  let timer = setTimeout(tick, options.firstRunMs ?? options.intervalMs).unref();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

export interface SweepOptions {
  /** One batch: handles at most `limit` due rows (in its own transaction) and resolves with how many. */
  batch(limit: number): Promise<number>;
  /** Rows per batch: a sweep runs batches until one handles fewer. */
  batchSize: number;
  /** Pause between sweeps. */
  intervalMs: number;
  logger: Logger;
  /** Names the work in log lines, e.g. "cart sweep". */
  what: string;
}

export interface Sweep {
  /** Sweeps now (or joins the sweep under way) until nothing is due; resolves with how many rows. */
  sweep(): Promise<number>;
  /** Stops for good, after the sweep under way (a background task of the service). */
  stop(): Promise<void>;
}

/**
 * A sweeper (expiring idle carts, releasing lapsed reservations, ...): batches until nothing is due,
 * every `intervalMs`. Batches should take their rows with FOR UPDATE SKIP LOCKED, so that several
 * instances may sweep at once and a sweep never waits on a row being written.
 */
export function startSweep(options: SweepOptions): Sweep {
  const periodic = startPeriodic({
    intervalMs: options.intervalMs,
    logger: options.logger,
    what: options.what,
    async run(stopped) {
      const swept = await drainBatches(() => options.batch(options.batchSize), options.batchSize, stopped);
      if (swept > 0) options.logger.info({ swept }, `${options.what}: done`);
      return swept;
    },
  });
  return { sweep: periodic.runNow, stop: periodic.stop };
}

/** Runs `batch` until it handles fewer than `batchSize` rows or `stopped()`; resolves with the sum. */
export async function drainBatches(batch: () => Promise<number>, batchSize: number, stopped: () => boolean): Promise<number> {
  let total = 0;
  for (;;) {
    const handled = await batch();
    total += handled;
    if (handled < batchSize || stopped()) return total;
  }
}
