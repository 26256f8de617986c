// Releases expired reservations in the background. Several instances may sweep at once: each batch
// takes the due rows with FOR UPDATE SKIP LOCKED, so no reservation is expired twice and no sweeper
// waits on another.
import { drainBatches, startPeriodic, type Database, type Logger } from "@bazaar/platform";
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
  const batchSize = options.batchSize ?? 100;
  const periodic = startPeriodic({
    intervalMs: options.intervalMs ?? 1000,
    logger: options.logger,
    what: "reservation sweep",
    async run(stopped) {
      const expired = await drainBatches(() => expireDue(options.database, batchSize), batchSize, stopped);
      if (expired > 0) options.logger.info({ expired }, "expired reservations released");
      return expired;
    },
  });
  return { sweep: periodic.runNow, stop: periodic.stop };
}
