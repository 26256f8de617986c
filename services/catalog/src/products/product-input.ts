// What an admin may write about a product, validated field by field with the contract's bounds. The
// same checks serve CreateProduct, UpdateProduct and each line of an import.
import { isCurrencyCode, isSku, isUuid, type FieldViolation } from "@bazaar/platform";
import { ProductStatus, type Product } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { isHttpsUrl, MAX_PRICE_MINOR, SLUG } from "../validation.ts";

export type WritableStatus = "draft" | "active";

export interface VariantInput {
  sku: string;
  options: Record<string, string>;
  /** currency → minor units */
  prices: Record<string, bigint>;
  /** Unit weight as shipped (0 = not recorded). */
  weightGrams: number;
  /** Outer dimensions in millimetres, when recorded. */
  dimensions?: { lengthMm: number; widthMm: number; heightMm: number } | undefined;
}

export const MAX_WEIGHT_GRAMS = 1_000_000;
export const MAX_DIMENSION_MM = 10_000;

export interface ProductInput {
  slug: string;
  name: string;
  description: string;
  brand: string;
  /** Category id (imports resolve slugs before validating). */
  categoryId: string;
  status: WritableStatus;
  tags: string[];
  imageUrls: string[];
  attributes: Record<string, string>;
  variants: VariantInput[];
}

export const statusNames: Record<ProductStatus, string> = {
  [ProductStatus.UNSPECIFIED]: "",
  [ProductStatus.DRAFT]: "draft",
  [ProductStatus.ACTIVE]: "active",
  [ProductStatus.ARCHIVED]: "archived",
};

export function statusFromName(name: string): ProductStatus {
  return name === "draft" ? ProductStatus.DRAFT : name === "active" ? ProductStatus.ACTIVE : name === "archived" ? ProductStatus.ARCHIVED : ProductStatus.UNSPECIFIED;
}

const length = (s: string) => [...s].length;

function checkMap(out: FieldViolation[], map: Record<string, string>, field: string, maxEntries: number, maxKey: number, maxValue: number) {
  const entries = Object.entries(map);
  if (entries.length > maxEntries) out.push({ field, description: `must have at most ${maxEntries} entries` });
  for (const [key, value] of entries.slice(0, maxEntries)) {
    if (key.trim() === "" || length(key) > maxKey) out.push({ field: `${field}[${JSON.stringify(key)}]`, description: `key must be 1–${maxKey} characters` });
    else if (value.trim() === "" || length(value) > maxValue) out.push({ field: `${field}[${JSON.stringify(key)}]`, description: `value must be 1–${maxValue} characters` });
  }
}

/** Every violation of `input`, with field paths under `prefix` (e.g. "product."). */
export function productViolations(input: ProductInput, prefix: string): FieldViolation[] {
  const out: FieldViolation[] = [];
  const at = (field: string, description: string) => out.push({ field: prefix + field, description });
  if (input.slug === "") at("slug", "is required");
  else if (input.slug.length > 120 || !SLUG.test(input.slug)) at("slug", "must be 1–120 of a–z, 0–9 and single hyphens");
  if (input.name.trim() === "") at("name", "is required");
  else if (length(input.name) > 200) at("name", "must be at most 200 characters");
  if (length(input.description) > 10_000) at("description", "must be at most 10000 characters");
  if (length(input.brand) > 80) at("brand", "must be at most 80 characters");
  if (input.categoryId === "") at("category_id", "is required");
  else if (!isUuid(input.categoryId)) at("category_id", "must be a UUID");
  if (input.tags.length > 20) at("tags", "must have at most 20 tags");
  input.tags.slice(0, 20).forEach((tag, i) => {
    if (tag.trim() === "" || length(tag) > 40) at(`tags[${i}]`, "must be 1–40 characters");
  });
  if (input.imageUrls.length > 20) at("image_urls", "must have at most 20 URLs");
  input.imageUrls.slice(0, 20).forEach((url, i) => {
    if (!isHttpsUrl(url)) at(`image_urls[${i}]`, "must be an https URL of at most 2048 characters");
  });
  checkMap(out, input.attributes, `${prefix}attributes`, 40, 40, 200);
  if (input.variants.length === 0) at("variants", "must have at least one variant");
  if (input.variants.length > 100) at("variants", "must have at most 100 variants");
  const skus = new Set<string>();
  input.variants.slice(0, 100).forEach((variant, i) => {
    const field = `variants[${i}]`;
    if (variant.sku === "") at(`${field}.sku`, "is required");
    else if (!isSku(variant.sku)) at(`${field}.sku`, "must be 1–64 of A–Z, 0–9, '.', '_', '-' starting with a letter or digit");
    else if (skus.has(variant.sku)) at(`${field}.sku`, "is repeated within the product");
    skus.add(variant.sku);
    checkMap(out, variant.options, `${prefix}${field}.options`, 8, 40, 80);
    const currencies = Object.entries(variant.prices);
    if (currencies.length === 0) at(`${field}.prices`, "must have at least one price");
    if (currencies.length > 20) at(`${field}.prices`, "must have at most 20 prices");
    if (!Number.isSafeInteger(variant.weightGrams) || variant.weightGrams < 0 || variant.weightGrams > MAX_WEIGHT_GRAMS) {
      at(`${field}.weight_grams`, `must be 0–${MAX_WEIGHT_GRAMS} grams`);
    }
    const d = variant.dimensions;
    if (d) {
      for (const [side, value] of [["length_mm", d.lengthMm], ["width_mm", d.widthMm], ["height_mm", d.heightMm]] as const) {
        if (!Number.isSafeInteger(value) || value < 1 || value > MAX_DIMENSION_MM) at(`${field}.dimensions.${side}`, `must be 1–${MAX_DIMENSION_MM} millimetres`);
      }
    }
  });
  return out;
}

/** Prices of a contract Variant as currency → amount, with violations for bad or repeated ones. */
export function pricesFrom(prices: readonly { amountMinor: bigint; currencyCode: string }[], field: string, out: FieldViolation[]): Record<string, bigint> {
  const map: Record<string, bigint> = {};
  prices.forEach((price, i) => {
    if (price.currencyCode === "") out.push({ field: `${field}[${i}].currency_code`, description: "is required (ISO 4217, e.g. USD)" });
    else if (!isCurrencyCode(price.currencyCode)) out.push({ field: `${field}[${i}].currency_code`, description: "must be an ISO 4217 code of three upper-case letters" });
    else if (price.currencyCode in map) out.push({ field: `${field}[${i}].currency_code`, description: "is repeated" });
    if (price.amountMinor <= 0n || price.amountMinor > MAX_PRICE_MINOR) {
      out.push({ field: `${field}[${i}].amount_minor`, description: `must be between 1 and ${MAX_PRICE_MINOR} minor units` });
    }
    if (isCurrencyCode(price.currencyCode)) map[price.currencyCode] = price.amountMinor;
  });
  return map;
}

/** A contract Product as input, with the violations found converting it (status, prices). */
export function inputFromProduct(product: Product, prefix: string): { input: ProductInput; violations: FieldViolation[] } {
  const out: FieldViolation[] = [];
  let status: WritableStatus = "draft";
  if (product.status === ProductStatus.ACTIVE) status = "active";
  else if (product.status === ProductStatus.ARCHIVED) out.push({ field: `${prefix}status`, description: "cannot be set to archived here: use ArchiveProduct" });
  else if (product.status !== ProductStatus.DRAFT && product.status !== ProductStatus.UNSPECIFIED) out.push({ field: `${prefix}status`, description: "is not a known status" });
  const input: ProductInput = {
    slug: product.slug,
    name: product.name,
    description: product.description,
    brand: product.brand,
    categoryId: product.categoryId,
    status,
    tags: [...product.tags],
    imageUrls: [...product.imageUrls],
    attributes: { ...product.attributes },
    variants: product.variants.map((variant, i) => ({
      sku: variant.sku,
      options: { ...variant.options },
      prices: pricesFrom(variant.prices, `${prefix}variants[${i}].prices`, out),
      // Out-of-range int64s become NaN-free numbers the range check above refuses.
      weightGrams: Number(variant.weightGrams),
      dimensions: variant.dimensions
        ? { lengthMm: variant.dimensions.lengthMm, widthMm: variant.dimensions.widthMm, heightMm: variant.dimensions.heightMm }
        : undefined,
    })),
  };
  return { input, violations: out };
}
