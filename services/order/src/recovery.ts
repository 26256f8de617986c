// The recovery driver: every interval it claims orders with work left (a saga under way, a cart not
// yet completed, a cancellation running) whose lease expired — a driver crashed, gave up, or is
// waiting on a payment event that never came — and drives them on. At start it first ends the leases
// an earlier incarnation of this instance (same identity) still holds: that process is gone, so what
// it was driving is resumed at once rather than when its leases run out.
import { drainBatches, startPeriodic, type BackgroundTask, type Database, type Logger } from "@bazaar/platform";
import { claimDue, deferLease, takeOverLeases, type LeaseHolder } from "./orders.ts";
import type { Saga } from "./saga.ts";

export interface RecoveryOptions {
  database: Database;
  saga: Saga;
  logger: Logger;
  intervalMs: number;
  leaseMs: number;
  /** Recorded on the leases it claims; its earlier incarnations' leases are taken over at start. */
  holder?: LeaseHolder;
  /** After a failed drive (a dependency still down), the order is tried again this much later (default min(leaseMs, 5000)). */
  retryDelayMs?: number;
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
  const retryDelayMs = options.retryDelayMs ?? Math.min(options.leaseMs, 5000);
  const log = options.logger.child({ component: "saga-recovery" });
  let tookOver = options.holder === undefined;

  async function driveAll(ids: string[], stopped: () => boolean): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < ids.length && !stopped()) {
        const id = ids[next++]!;
        try {
          const order = await options.saga.drive(id);
          log.info({ order_id: id, status: order.status }, "order driven by recovery");
        } catch (error) {
          // Tried again once the (shortened) lease ends: a dependency back within seconds is seen within seconds.
          log.warn({ err: error, order_id: id }, "recovery could not drive order; will retry");
          await options.database.transaction((em) => deferLease(em, id, retryDelayMs)).catch(() => undefined);
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
    async run(stopped) {
      if (!tookOver) {
        const freed = await options.database.transaction((em) => takeOverLeases(em, options.holder!));
        tookOver = true;
        if (freed > 0) log.info({ orders: freed, instance: options.holder!.instance }, "resuming the orders an earlier incarnation of this instance held");
      }
      return drainBatches(
        async () => {
          const ids = await options.database.transaction((em) => claimDue(em, batchSize, options.leaseMs, options.holder));
          await driveAll(ids, stopped);
          return ids.length;
        },
        batchSize,
        stopped,
      );
    },
  });
  return { runOnce: periodic.runNow, stop: periodic.stop };
}
