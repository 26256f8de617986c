// The recovery driver: every interval it claims orders with work left (a saga under way, a cart not
// yet completed, a cancellation running) whose lease expired — a driver crashed, gave up, or is
// waiting on a payment event that never came — and drives them on. It runs right at start, so what a
// crash left is picked up as soon as its leases run out.
import { drainBatches, startPeriodic, type BackgroundTask, type Database, type Logger } from "@bazaar/platform";
import { claimDue } from "./orders.ts";
import type { Saga } from "./saga.ts";

export interface RecoveryOptions {
  database: Database;
  saga: Saga;
  logger: Logger;
  intervalMs: number;
  leaseMs: number;
  /** Orders claimed per scan (default 50). */
  batchSize?: number;
  /** Orders driven at once (default 8). */
  concurrency?: number;
}

export interface Recovery extends BackgroundTask {
  /** Claims and drives whatever is due now; resolves with how many orders were driven. */
  runOnce(): Promise<number>;
}

export function startRecovery(options: RecoveryOptions): Recovery {
  const batchSize = options.batchSize ?? 50;
  const concurrency = options.concurrency ?? 8;
  const log = options.logger.child({ component: "saga-recovery" });

  async function driveAll(ids: string[], stopped: () => boolean): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !stopped()) {
        const id = ids[next++]!;
        try {
          const order = await options.saga.drive(id);
          log.info({ order_id: id, status: order.status }, "order driven by recovery");
        } catch (error) {
          // The lease stays: the order is tried again once it expires.
          log.warn({ err: error, order_id: id }, "recovery could not drive order; will retry");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  }

  const periodic = startPeriodic({
    intervalMs: options.intervalMs,
    firstRunMs: 0,
    logger: log,
    what: "recovery scan",
    run: (stopped) =>
      drainBatches(
        async () => {
          const ids = await options.database.transaction((em) => claimDue(em, batchSize, options.leaseMs));
          await driveAll(ids, stopped);
          return ids.length;
        },
        batchSize,
        stopped,
      ),
  });
  return { runOnce: periodic.runNow, stop: periodic.stop };
}
