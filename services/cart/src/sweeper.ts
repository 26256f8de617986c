// Expires idle carts in the background: ACTIVE carts not written to for their time to live (guests
// sooner than users) become EXPIRED. Batches take their rows with FOR UPDATE SKIP LOCKED, so several
// instances may sweep at once and a sweep never waits on a cart being written.
import { drainBatches, startPeriodic, type BackgroundTask, type Database, type Logger } from "@bazaar/platform";
import { expireIdle } from "./carts.ts";

export interface SweeperOptions {
  database: Database;
  logger: Logger;
  guestTtlSeconds: number;
  userTtlSeconds: number;
  /** Pause between sweeps (default 60 000 ms). */
  intervalMs?: number;
  /** Carts expired per transaction (default 500). */
  batchSize?: number;
}

export interface Sweeper extends BackgroundTask {
  /** Sweeps now until nothing is due; resolves with how many carts expired. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

export function startSweeper(options: SweeperOptions): Sweeper {
  const batchSize = options.batchSize ?? 500;
  const periodic = startPeriodic({
    intervalMs: options.intervalMs ?? 60_000,
    logger: options.logger,
    what: "cart sweep",
    async run(stopped) {
      const expire = () => options.database.transaction((em) => expireIdle(em, options.guestTtlSeconds, options.userTtlSeconds, batchSize));
      const expired = await drainBatches(expire, batchSize, stopped);
      if (expired > 0) options.logger.info({ expired }, "idle carts expired");
      return expired;
    },
  });
  return { sweep: periodic.runNow, stop: periodic.stop };
}
