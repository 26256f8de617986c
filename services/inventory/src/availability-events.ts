// OutOfStock / BackInStock / LowStock: published (through the outbox) when a SKU's availability summed
// over all locations crosses zero or its low-stock threshold. Callers change sku_stock.available in the
// same transaction, holding its row lock, so before and after are exact.
import { clockTimestamp, publish, typedQueries, type EntityManager } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { BackInStockSchema, LowStockSchema, OutOfStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { inventoryEntities } from "./entities.ts";

/**
 * Adds `delta` to each SKU's availability total (SKUs in sorted order: the lock order every writer
 * follows after its stock_level rows) and publishes the crossings.
 */
export async function changeAvailability(em: EntityManager, deltas: Map<string, number>): Promise<void> {
  for (const sku of [...deltas.keys()].sort()) {
    const delta = deltas.get(sku)!;
    if (delta === 0) continue;
    const row = await typedQueries(em, inventoryEntities)
      .updateTable("sku_stock")
      .set((eb) => ({ available: eb("available", "+", delta), updated_at: clockTimestamp }))
      .where("sku", "=", sku)
      .returning(["available", "low_stock_threshold"])
      .executeTakeFirst();
    if (!row) throw new Error(`sku_stock row missing for ${sku}`);
    await availabilityCrossed(em, sku, row.available - delta, row.available, row.low_stock_threshold);
  }
}

export async function availabilityCrossed(em: EntityManager, sku: string, before: number, after: number, threshold: number): Promise<void> {
  if (before > 0 && after === 0) {
    await publish(em, OutOfStockSchema, create(OutOfStockSchema, { sku }));
  } else if (before === 0 && after > 0) {
    await publish(em, BackInStockSchema, create(BackInStockSchema, { sku, available: BigInt(after) }));
  }
  if (threshold > 0 && after > 0 && after <= threshold && before > threshold) {
    await publish(em, LowStockSchema, create(LowStockSchema, { sku, available: BigInt(after), threshold: BigInt(threshold) }));
  }
}
