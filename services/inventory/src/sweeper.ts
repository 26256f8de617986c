// Releases expired reservations in the background. Several instances may sweep at once: each batch
// takes the due rows with FOR UPDATE SKIP LOCKED, so no reservation is expired twice and no sweeper
// waits on another.
import type { Database, Logger } from "@bazaar/platform";
import { expireDue } from "./reservations.ts";

export interface SweeperOptions {
  database: Database;
  logger: Logger;
  /** Pause between sweeps when nothing was due (default 1000 ms). */
  intervalMs?: number;
  /** Reservations expired per transaction (default 100). */
  batchSize?: number;
}

export interface Sweeper {
  /** Sweeps now until nothing is due; resolves with how many were expired. */
  sweep(): Promise<number>;
  /** Stops sweeping for good, after the sweep under way (a background task of the service). */
  stop(): Promise<void>;
}

export function startSweeper(options: SweeperOptions): Sweeper {
  const intervalMs = options.intervalMs ?? 1000;
  const batchSize = options.batchSize ?? 100;
  let running: Promise<number> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function sweepAll(): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await expireDue(options.database, batchSize);
      total += expired;
      if (expired < batchSize || stopped) return total;
    }
  }

  function sweep(): Promise<number> {
    running ??= sweepAll().finally(() => (running = undefined));
    return running;
  }

  const tick = () => {
    if (stopped) return;
    sweep()
      .then((expired) => {
        if (expired > 0) options.logger.info({ expired }, "expired reservations released");
      })
      .catch((error: unknown) => {
        if (!stopped) options.logger.warn({ err: error }, "reservation sweep failed; retrying");
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs).unref();
      });
  };
  timer = setTimeout(tick, intervalMs).unref();
  return {
    sweep,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => {});
    },
  };
}
