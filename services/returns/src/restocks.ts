// Resellable units back to stock exactly once, across crashes: the receipt records per line what
// arrived resellable (restocked 0) in its transaction; then inventory's AdjustStock (a RETURNED
// movement) is asked under the idempotency key "return-<id>-<sku>", which inventory applies once
// however often it is asked; then the line is recorded restocked. A service that dies between the
// two finds the pending line at restart (and every RETURNS_RESTOCK_RETRY_MS) and asks again with the
// same key: one movement, never a forgotten one.
import { startPeriodic, type BackgroundTask, type Database, type Logger } from "@bazaar/platform";
import type { Client } from "@connectrpc/connect";
import { InventoryService, MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import type { ReturnsMetrics } from "./metrics.ts";
import { tables } from "./return-store.ts";

export interface RestocksOptions {
  database: Database;
  /** Inventory on the service's own authority (a restart finishes restocks nobody is waiting for). */
  inventory: Client<typeof InventoryService>;
  logger: Logger;
  metrics: ReturnsMetrics;
  /** Test seam: called after inventory answered and before the restock is recorded (a crash test kills the process here). */
  afterRestockCall?: (returnId: string) => void;
}

export interface Restocks {
  /** Restocks a received return's pending lines; a failure is logged and left for the retries. */
  restock(returnId: string): Promise<void>;
  /** Finishes every line received resellable and not yet confirmed restocked (at start, then periodically). */
  finishPending(): Promise<number>;
}

/** One key per return line: inventory makes one movement per key. */
export const restockKeyOf = (returnId: string, sku: string) => `return-${returnId}-${sku}`;

interface PendingLine {
  return_id: string;
  sku: string;
  received_resellable: number;
}

export function createRestocks(options: RestocksOptions): Restocks {
  const { database, inventory, logger } = options;

  const pending = (returnId?: string) =>
    tables(database.em())
      .selectFrom("return_line")
      .select(["return_id", "sku", "received_resellable"])
      .whereRef("restocked", "<", "received_resellable")
      .$if(returnId !== undefined, (q) => q.where("return_id", "=", returnId!))
      .orderBy("return_id")
      .orderBy("sku")
      .limit(100)
      .execute();

  async function restockLine(line: PendingLine): Promise<void> {
    // The whole line in one movement: its delta never changes, so a repeat matches the first call.
    await inventory.adjustStock({
      sku: line.sku,
      delta: BigInt(line.received_resellable),
      reason: MovementReason.RETURNED,
      note: `return ${line.return_id}`,
      idempotencyKey: restockKeyOf(line.return_id, line.sku),
    });
    options.afterRestockCall?.(line.return_id);
    const recorded = await tables(database.em())
      .updateTable("return_line")
      .set((eb) => ({ restocked: eb.ref("received_resellable") }))
      .where("return_id", "=", line.return_id)
      .where("sku", "=", line.sku)
      .whereRef("restocked", "<", "received_resellable")
      .returning("return_id")
      .execute();
    if (recorded.length > 0) options.metrics.restocked.inc(line.received_resellable);
  }

  async function finish(lines: PendingLine[]): Promise<number> {
    let finished = 0;
    for (const line of lines) {
      try {
        await restockLine(line);
        finished += 1;
      } catch (error) {
        logger.warn({ err: error, return_id: line.return_id, sku: line.sku }, "returned units not restocked yet; retrying later");
      }
    }
    return finished;
  }

  return {
    async restock(returnId) {
      await finish(await pending(returnId));
    },
    async finishPending() {
      return finish(await pending());
    },
  };
}

/** Finishes pending restocks at start (a crashed predecessor's) and every `intervalMs`. */
export function startRestockRetries(restocks: Restocks, logger: Logger, intervalMs: number): BackgroundTask {
  return startPeriodic({ run: () => restocks.finishPending(), intervalMs, firstRunMs: 0, logger, what: "pending restocks" });
}
