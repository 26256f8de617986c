// Products: reading them whole (variants, prices, stock, rating) and the admin writes — create,
// update with field mask and etag, archive — each publishing its events through the outbox in the
// same transaction.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AlreadyExistsError,
  asDate,
  checkUpdateMask,
  checkUuid,
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  isUniqueViolation,
  NotFoundError,
  pgArray,
  publish,
  violations,
  type EntityManager,
} from "@bazaar/platform";
import { ProductSchema, RatingSchema, VariantSchema, type Product } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { PriceChangedSchema, ProductArchivedSchema, ProductCreatedSchema, ProductUpdatedSchema } from "@bazaar/contracts/bazaar/catalog/v1/events_pb";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { uuidv7 } from "uuidv7";
import { findCategory } from "../categories.ts";
import { etagOf } from "../validation.ts";
import { inputFromProduct, productViolations, statusFromName, type ProductInput, type VariantInput } from "./product-input.ts";

interface ProductRow {
  id: string;
  slug: string;
  name: string;
  description: string;
  brand: string;
  category_id: string;
  status: string;
  tags: string[];
  image_urls: string[];
  attributes: Record<string, string>;
  in_stock: boolean;
  rating_count: number;
  rating_avg: number;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

interface VariantRow {
  sku: string;
  product_id: string;
  options: Record<string, string>;
  prices: Record<string, string | number>;
  in_stock: boolean;
  weight_grams?: number;
  length_mm?: number | null;
  width_mm?: number | null;
  height_mm?: number | null;
}

const productColumns =
  "id, slug, name, description, brand, category_id, status, tags, image_urls, attributes, in_stock, rating_count, rating_avg, version, created_at, updated_at";

/** The select list of a whole product (alias p): its columns, variants with stock, and "from" prices. */
export const wholeProductColumns = `p.id, p.slug, p.name, p.description, p.brand, p.category_id, p.status, p.tags, p.image_urls, p.attributes, p.in_stock,
  p.rating_count, p.rating_avg, p.version, p.created_at, p.updated_at,
  coalesce((select json_agg(json_build_object('sku', v.sku, 'options', v.options, 'prices', v.prices, 'in_stock', coalesce(s.in_stock, false), 'weight_grams', v.weight_grams, 'length_mm', v.length_mm, 'width_mm', v.width_mm, 'height_mm', v.height_mm) order by v.position)
            from variant v left join sku_stock s on s.sku = v.sku where v.product_id = p.id), '[]') as variants,
  coalesce((select json_agg(json_build_object('currency', pp.currency, 'amount', pp.amount_minor::text) order by pp.currency)
            from product_price pp where pp.product_id = p.id), '[]') as prices`;

export type WholeProductRow = ProductRow & { variants: VariantRow[] | string; prices: { currency: string; amount: string }[] | string };

const json = <T>(value: T | string): T => (typeof value === "string" ? (JSON.parse(value) as T) : value);

/** A row selected with wholeProductColumns as a contract Product. */
export function toProduct(row: WholeProductRow): Product {
  return create(ProductSchema, {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    brand: row.brand,
    categoryId: row.category_id,
    status: statusFromName(row.status),
    tags: row.tags,
    imageUrls: row.image_urls,
    attributes: row.attributes,
    variants: json(row.variants).map((v) =>
      create(VariantSchema, {
        sku: v.sku,
        options: v.options,
        inStock: v.in_stock,
        weightGrams: BigInt(v.weight_grams ?? 0),
        ...(v.length_mm != null ? { dimensions: { lengthMm: v.length_mm, widthMm: v.width_mm ?? 0, heightMm: v.height_mm ?? 0 } } : {}),
        prices: Object.entries(v.prices)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([currencyCode, amount]) => create(MoneySchema, { currencyCode, amountMinor: BigInt(amount) })),
      }),
    ),
    priceFrom: json(row.prices).map((p) => create(MoneySchema, { currencyCode: p.currency, amountMinor: BigInt(p.amount) })),
    rating: create(RatingSchema, { average: row.rating_avg, count: row.rating_count }),
    inStock: row.in_stock,
    createTime: timestampFromDate(asDate(row.created_at)),
    updateTime: timestampFromDate(asDate(row.updated_at)),
    etag: etagOf(row.version),
  });
}

/** Products by id, whole, in the order of `ids` (missing ones left out): one query. */
export async function loadProducts(em: EntityManager, ids: readonly string[]): Promise<Product[]> {
  if (ids.length === 0) return [];
  const rows = await em.execute<WholeProductRow[]>(`select ${wholeProductColumns} from product p where p.id = any(?::uuid[])`, [pgArray(ids)]);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = byId.get(id);
    return row ? [toProduct(row)] : [];
  });
}

export async function getProduct(em: EntityManager, key: { id: string; slug: string }, includeHidden: boolean): Promise<Product> {
  const v = violations();
  v.check((key.id === "") !== (key.slug === ""), "id", "give exactly one of id and slug");
  if (key.id !== "") checkUuid(v, "id", key.id);
  if (key.slug !== "") v.check(key.slug.length <= 120, "slug", "must be at most 120 characters");
  v.throwIfAny();
  const [row] = await em.execute<{ id: string; status: string }[]>(
    key.id !== "" ? "select id, status from product where id = ?" : "select id, status from product where slug = ?",
    [key.id !== "" ? key.id : key.slug],
  );
  if (!row || (!includeHidden && row.status !== "active")) throw new NotFoundError(`product ${key.id || key.slug} not found`);
  const [product] = await loadProducts(em, [row.id]);
  return product!;
}

function alreadyExists(error: unknown): never {
  if (isUniqueViolation(error, "product_slug_key")) throw new AlreadyExistsError("the slug is taken by another product", { cause: error, reason: "SLUG_TAKEN" });
  if (isUniqueViolation(error, "variant_pkey")) throw new AlreadyExistsError("a SKU is taken by another product", { cause: error, reason: "SKU_TAKEN" });
  throw error;
}

async function checkSkusFree(em: EntityManager, productId: string, variants: VariantInput[]) {
  const taken = await em.execute<{ sku: string }[]>("select sku from variant where sku = any(?::text[]) and product_id <> ?", [pgArray(variants.map((v) => v.sku)), productId]);
  if (taken.length > 0) throw new AlreadyExistsError(`SKU ${taken.map((t) => t.sku).join(", ")} belongs to another product`, { reason: "SKU_TAKEN" });
}

/** Replaces a product's variants, its "from" prices and in-stock flag; returns the price changes. */
async function writeVariants(em: EntityManager, productId: string, variants: VariantInput[]) {
  const before = await em.execute<{ sku: string; prices: Record<string, string | number> }[]>("select sku, prices from variant where product_id = ?", [productId]);
  await em.execute("delete from variant where product_id = ?", [productId]);
  await em.execute(
    `insert into variant (sku, product_id, position, options, prices, weight_grams, length_mm, width_mm, height_mm)
     select v->>'sku', ?, ord::int, v->'options', v->'prices', (v->>'weight_grams')::int, (v->>'length_mm')::int, (v->>'width_mm')::int, (v->>'height_mm')::int
     from jsonb_array_elements(?::jsonb) with ordinality as t(v, ord)`,
    [
      productId,
      JSON.stringify(
        variants.map((v) => ({
          sku: v.sku,
          options: v.options,
          prices: Object.fromEntries(Object.entries(v.prices).map(([c, a]) => [c, Number(a)])),
          weight_grams: v.weightGrams,
          length_mm: v.dimensions?.lengthMm ?? null,
          width_mm: v.dimensions?.widthMm ?? null,
          height_mm: v.dimensions?.heightMm ?? null,
        })),
      ),
    ],
  );
  await em.execute("delete from product_price where product_id = ?", [productId]);
  await em.execute(
    "insert into product_price (product_id, currency, amount_minor) select ?, key, min(value::bigint) from variant, jsonb_each_text(prices) where product_id = ? group by key",
    [productId, productId],
  );
  await refreshInStock(em, [productId]);
  const changes: { sku: string; currency: string; before?: bigint; after?: bigint }[] = [];
  const old = new Map(before.map((b) => [b.sku, b.prices]));
  for (const variant of variants) {
    const was = old.get(variant.sku) ?? {};
    for (const currency of new Set([...Object.keys(was), ...Object.keys(variant.prices)])) {
      const a = was[currency] === undefined ? undefined : BigInt(was[currency]);
      const b = variant.prices[currency];
      if (a !== b) changes.push({ sku: variant.sku, currency, before: a, after: b });
    }
  }
  return changes;
}

/** Recomputes product.in_stock from its variants' stock. */
export async function refreshInStock(em: EntityManager, productIds: readonly string[]) {
  await em.execute(
    "update product p set in_stock = exists (select 1 from variant v join sku_stock s on s.sku = v.sku where v.product_id = p.id and s.in_stock) where p.id = any(?::uuid[])",
    [pgArray(productIds)],
  );
}

async function publishPriceChanges(em: EntityManager, productId: string, changes: Awaited<ReturnType<typeof writeVariants>>) {
  for (const change of changes) {
    await publish(
      em,
      PriceChangedSchema,
      create(PriceChangedSchema, {
        productId,
        sku: change.sku,
        oldPrice: change.before === undefined ? undefined : create(MoneySchema, { currencyCode: change.currency, amountMinor: change.before }),
        newPrice: change.after === undefined ? undefined : create(MoneySchema, { currencyCode: change.currency, amountMinor: change.after }),
      }),
    );
  }
}

/** Inserts a validated product (inside the caller's transaction) and publishes ProductCreated. */
export async function insertProduct(em: EntityManager, input: ProductInput, id = uuidv7()): Promise<string> {
  await findCategory(em, input.categoryId);
  await checkSkusFree(em, id, input.variants);
  try {
    await em.execute(
      "insert into product (id, slug, name, description, brand, category_id, status, tags, image_urls, attributes) values (?, ?, ?, ?, ?, ?, ?, ?::text[], ?::text[], ?::jsonb)",
      [id, input.slug, input.name.trim(), input.description, input.brand.trim(), input.categoryId, input.status, pgArray(input.tags), pgArray(input.imageUrls), JSON.stringify(input.attributes)],
    );
    await writeVariants(em, id, input.variants);
  } catch (error) {
    alreadyExists(error);
  }
  await publish(
    em,
    ProductCreatedSchema,
    create(ProductCreatedSchema, { productId: id, slug: input.slug, name: input.name.trim(), categoryId: input.categoryId, status: input.status, skus: input.variants.map((v) => v.sku) }),
  );
  return id;
}

/** Overwrites the named fields of a product (inside the caller's transaction); publishes ProductUpdated and PriceChanged. */
export async function rewriteProduct(em: EntityManager, id: string, input: ProductInput, fields: readonly string[]): Promise<void> {
  if (fields.includes("category_id")) await findCategory(em, input.categoryId);
  if (fields.includes("variants")) await checkSkusFree(em, id, input.variants);
  let changes: Awaited<ReturnType<typeof writeVariants>> = [];
  let version = 0;
  try {
    const [row] = await em.execute<{ version: number }[]>(
      "update product set slug = ?, name = ?, description = ?, brand = ?, category_id = ?, status = ?, tags = ?::text[], image_urls = ?::text[], attributes = ?::jsonb, version = version + 1, updated_at = now() where id = ? returning version",
      [input.slug, input.name.trim(), input.description, input.brand.trim(), input.categoryId, input.status, pgArray(input.tags), pgArray(input.imageUrls), JSON.stringify(input.attributes), id],
    );
    version = row!.version;
    if (fields.includes("variants")) changes = await writeVariants(em, id, input.variants);
  } catch (error) {
    alreadyExists(error);
  }
  await publish(em, ProductUpdatedSchema, create(ProductUpdatedSchema, { productId: id, changedFields: [...fields], etag: etagOf(version), status: input.status }));
  await publishPriceChanges(em, id, changes);
}

export async function createProduct(em: EntityManager, product: Product | undefined): Promise<string> {
  if (!product) throw new InvalidArgumentError({ field: "product", description: "is required" });
  const { input, violations: found } = inputFromProduct(product, "product.");
  const all = [...found, ...productViolations(input, "product.")];
  if (all.length > 0) throw new InvalidArgumentError(all);
  return insertProduct(em, input);
}

export const updatablePaths = ["slug", "name", "description", "brand", "category_id", "status", "tags", "image_urls", "attributes", "variants"];

/** Current input of a product (for read-modify-write), locked for the transaction. */
export async function currentInput(em: EntityManager, id: string): Promise<{ input: ProductInput; status: string; version: number } | undefined> {
  const [row] = await em.execute<ProductRow[]>(`select ${productColumns} from product where id = ? for update`, [id]);
  if (!row) return undefined;
  const variants = await em.execute<VariantRow[]>("select sku, product_id, options, prices, false as in_stock, weight_grams, length_mm, width_mm, height_mm from variant where product_id = ? order by position", [id]);
  return {
    status: row.status,
    version: row.version,
    input: {
      slug: row.slug,
      name: row.name,
      description: row.description,
      brand: row.brand,
      categoryId: row.category_id,
      status: row.status === "active" ? "active" : "draft",
      tags: row.tags,
      imageUrls: row.image_urls,
      attributes: row.attributes,
      variants: variants.map((v) => ({
        sku: v.sku,
        options: v.options,
        prices: Object.fromEntries(Object.entries(v.prices).map(([c, a]) => [c, BigInt(a)])),
        weightGrams: v.weight_grams ?? 0,
        dimensions: v.length_mm != null ? { lengthMm: v.length_mm, widthMm: v.width_mm ?? 0, heightMm: v.height_mm ?? 0 } : undefined,
      })),
    },
  };
}

export async function updateProduct(em: EntityManager, product: Product | undefined, paths: readonly string[]): Promise<string> {
  const v = violations();
  if (!v.check(product, "product", "is required")) v.throwIfAny();
  checkUuid(v, "product.id", product!.id);
  v.check(product!.etag !== "", "product.etag", "is required (the etag of the product as read)");
  checkUpdateMask(v, paths, updatablePaths);
  v.throwIfAny();
  const { input: patch, violations: found } = inputFromProduct(product!, "product.");
  const relevant = found.filter((f) => paths.some((path) => f.field.startsWith(`product.${path}`)));
  if (relevant.length > 0) throw new InvalidArgumentError(relevant);

  const current = await currentInput(em, product!.id);
  if (!current) throw new NotFoundError(`product ${product!.id} not found`);
  if (product!.etag !== etagOf(current.version)) throw new ConflictError("the product changed since it was read (stale etag): read it again and retry", { reason: "STALE_ETAG" });
  if (current.status === "archived") throw new FailedPreconditionError("an archived product cannot be changed", { reason: "PRODUCT_ARCHIVED" });
  const next: ProductInput = { ...current.input };
  const mapping: Record<string, keyof ProductInput> = { category_id: "categoryId", image_urls: "imageUrls" };
  for (const path of paths) {
    const key = mapping[path] ?? (path as keyof ProductInput);
    (next as unknown as Record<string, unknown>)[key] = patch[key];
  }
  const bad = productViolations(next, "product.");
  if (bad.length > 0) throw new InvalidArgumentError(bad);
  await rewriteProduct(em, product!.id, next, paths);
  return product!.id;
}

export async function archiveProduct(em: EntityManager, id: string, etag: string): Promise<void> {
  const v = violations();
  checkUuid(v, "id", id);
  v.throwIfAny();
  const [row] = await em.execute<{ status: string; version: number }[]>("select status, version from product where id = ? for update", [id]);
  if (!row) throw new NotFoundError(`product ${id} not found`);
  if (row.status === "archived") return;
  if (etag !== "" && etag !== etagOf(row.version)) throw new ConflictError("the product changed since it was read (stale etag)", { reason: "STALE_ETAG" });
  await em.execute("update product set status = 'archived', version = version + 1, updated_at = now() where id = ?", [id]);
  const skus = await em.execute<{ sku: string }[]>("select sku from variant where product_id = ? order by position", [id]);
  await publish(em, ProductArchivedSchema, create(ProductArchivedSchema, { productId: id, skus: skus.map((s) => s.sku) }));
}
