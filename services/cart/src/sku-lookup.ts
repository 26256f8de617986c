// What the catalog and inventory say about SKUs now: one BatchGetVariants and one BatchGetStockLevels,
// in parallel, for up to 100 SKUs (a cart's limit). Calls go through runtime.clientFor, so a user's
// call carries the user's token (drafts stay hidden from them) and deadlines propagate. When one of
// them cannot be reached the cart says which (reason CATALOG_UNAVAILABLE / INVENTORY_UNAVAILABLE), so
// its callers (the order service, the storefront) can name the dependency that actually failed; any
// other failure follows the platform's downstream-errors rule.
import { dependencyUnavailable, type ServiceRuntime } from "@bazaar/platform";
import { Code, ConnectError } from "@connectrpc/connect";
import { CatalogService, type VariantSummary } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";

export interface SkuFacts {
  /** The catalog's summary when it sells or sold the SKU (found); undefined when unknown or hidden. */
  variant: VariantSummary | undefined;
  /** Units available now, over all locations. */
  available: bigint;
}

export type SkuLookup = (skus: readonly string[]) => Promise<Map<string, SkuFacts>>;

/** The most SKUs one BatchGetVariants / BatchGetStockLevels call takes. */
const BATCH = 100;

export function createSkuLookup(runtime: ServiceRuntime): SkuLookup {
  async function batch(skus: string[], facts: Map<string, SkuFacts>) {
    const catalog = runtime.clientFor(CatalogService);
    const inventory = runtime.clientFor(InventoryService);
    const [{ variants }, { stocks }] = await Promise.all([
      catalog.batchGetVariants({ skus }).catch(unreachable("catalog")),
      inventory.batchGetStockLevels({ skus }).catch(unreachable("inventory")),
    ]);
    skus.forEach((sku, i) => {
      const variant = variants[i];
      const stock = stocks[i];
      facts.set(sku, { variant: variant?.found && variant.sku === sku ? variant : undefined, available: stock?.sku === sku ? stock.available : 0n });
    });
  }
  return async (requested) => {
    const skus = [...new Set(requested)];
    const facts = new Map<string, SkuFacts>();
    const batches: Promise<void>[] = [];
    // A cart holds at most 100 lines; a write may look up one more, hence batches.
    for (let i = 0; i < skus.length; i += BATCH) batches.push(batch(skus.slice(i, i + BATCH), facts));
    await Promise.all(batches);
    return facts;
  };
}

/** A dependency's retryable failure as the cart's `unavailable`, naming it; anything else as it came. */
const unreachable =
  (service: "catalog" | "inventory") =>
  (error: unknown): never => {
    const code = ConnectError.from(error).code;
    if (code === Code.Unavailable || code === Code.ResourceExhausted) throw dependencyUnavailable(service, error, "the cart cannot be priced");
    throw error;
  };

/** `known` plus whatever of `skus` it lacks, looked up (nothing is fetched when it has them all). */
export async function completeLookup(lookup: SkuLookup, known: Map<string, SkuFacts>, skus: readonly string[]): Promise<Map<string, SkuFacts>> {
  const missing = skus.filter((sku) => !known.has(sku));
  if (missing.length === 0) return known;
  const more = await lookup(missing);
  return new Map([...known, ...more]);
}
