// The in-stock filter follows inventory: OutOfStock / BackInStock (availability summed over
// locations) set the SKU's flag, and the products holding that SKU recompute theirs — in the same
// transaction as the consumer's inbox row, so a redelivery applies once.
import { onEvent, pgArray, type EntityManager, type EventHandler } from "@bazaar/platform";
import { BackInStockSchema, OutOfStockSchema } from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { refreshInStock } from "./products/products.ts";

/** Records whether `skus` are in stock and refreshes the products that hold them. */
export async function setSkuStock(em: EntityManager, skus: readonly string[], inStock: boolean): Promise<void> {
  if (skus.length === 0) return;
  await em.execute(
    "insert into sku_stock (sku, in_stock) select unnest(?::text[]), ? on conflict (sku) do update set in_stock = excluded.in_stock, updated_at = now()",
    [pgArray(skus), inStock],
  );
  const products = await em.execute<{ product_id: string }[]>("select distinct product_id from variant where sku = any(?::text[])", [pgArray(skus)]);
  await refreshInStock(em, products.map((p) => p.product_id));
}

export const stockHandlers: EventHandler[] = [
  onEvent(OutOfStockSchema, (event, { em }) => setSkuStock(em, [event.sku], false)),
  onEvent(BackInStockSchema, (event, { em }) => setSkuStock(em, [event.sku], true)),
];
