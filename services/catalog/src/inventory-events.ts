// The in-stock filter follows inventory: OutOfStock / BackInStock (availability summed over
// locations) set the SKU's flag, and the products holding that SKU recompute theirs — in the same
// transaction as the consumer's inbox row, so a redelivery applies once.
import { onEvent, sql, typedQueries, type EntityManager, type EventHandler } from "@bazaar/platform";
import { BackInStockSchema, OutOfStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { catalogEntities } from "./entities.ts";
import { refreshInStock } from "./products/products.ts";

/** Records whether `skus` are in stock and refreshes the products that hold them. */
export async function setSkuStock(em: EntityManager, skus: readonly string[], inStock: boolean): Promise<void> {
  if (skus.length === 0) return;
  const tables = typedQueries(em, catalogEntities);
  await tables
    .insertInto("sku_stock")
    .values(skus.map((sku) => ({ sku, in_stock: inStock })))
    .onConflict((oc) => oc.column("sku").doUpdateSet((eb) => ({ in_stock: eb.ref("excluded.in_stock"), updated_at: sql<Date>`now()` })))
    .execute();
  const products = await tables.selectFrom("variant").select("product_id").distinct().where("sku", "in", skus).execute();
  await refreshInStock(em, products.map((p) => p.product_id));
}

export const stockHandlers: EventHandler[] = [
  onEvent(OutOfStockSchema, (event, { em }) => setSkuStock(em, [event.sku], false)),
  onEvent(BackInStockSchema, (event, { em }) => setSkuStock(em, [event.sku], true)),
];
