// BatchGetVariants: what a cart or checkout needs of up to 100 SKUs (product name, slug, status, first
// image, option values, prices, stock flag), in one query. Drafts stay hidden from customers; archived
// products are returned with their status so a cart can flag them instead of losing the line.
import { create } from "@bufbuild/protobuf";
import { checkSku, pgArray, violations, type EntityManager } from "@bazaar/platform";
import { VariantSummarySchema, type VariantSummary } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { statusFromName } from "./product-input.ts";

export const MAX_BATCH_SKUS = 100;

interface SummaryRow {
  sku: string;
  product_id: string;
  name: string;
  slug: string;
  status: string;
  options: Record<string, string>;
  prices: Record<string, string | number>;
  in_stock: boolean;
  image_url: string | null;
  weight_grams: number;
  category_path: string | null;
}

/** One summary per requested SKU, in the order asked (repeats repeated); drafts only when `includeDrafts`. */
export async function batchGetVariants(em: EntityManager, skus: readonly string[], includeDrafts: boolean): Promise<VariantSummary[]> {
  const v = violations();
  if (v.check(skus.length > 0, "skus", "must name at least one SKU")) {
    v.check(skus.length <= MAX_BATCH_SKUS, "skus", `must name at most ${MAX_BATCH_SKUS} SKUs`);
  }
  if (skus.length <= MAX_BATCH_SKUS) skus.forEach((sku, i) => checkSku(v, `skus[${i}]`, sku));
  v.throwIfAny();

  const rows = await em.execute<SummaryRow[]>(
    `select v.sku, v.product_id, p.name, p.slug, p.status, v.options, v.prices, coalesce(s.in_stock, false) as in_stock, p.image_urls[1] as image_url, v.weight_grams,
            c.path as category_path
       from variant v join product p on p.id = v.product_id left join sku_stock s on s.sku = v.sku left join category c on c.id = p.category_id
      where v.sku = any(?::text[])`,
    [pgArray([...new Set(skus)])],
  );
  const bySku = new Map(rows.map((row) => [row.sku, row]));
  return skus.map((sku) => {
    const row = bySku.get(sku);
    if (!row || (row.status === "draft" && !includeDrafts)) return create(VariantSummarySchema, { sku, found: false });
    return create(VariantSummarySchema, {
      sku,
      found: true,
      productId: row.product_id,
      productName: row.name,
      productSlug: row.slug,
      productStatus: statusFromName(row.status),
      options: row.options,
      prices: Object.entries(row.prices)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currencyCode, amount]) => create(MoneySchema, { currencyCode, amountMinor: BigInt(amount) })),
      inStock: row.in_stock,
      imageUrl: row.image_url ?? "",
      weightGrams: BigInt(row.weight_grams),
      // Promotions on a category match its descendants' products too.
      categoryIds: (row.category_path ?? "").split("/").filter(Boolean),
    });
  });
}
