// The catalog's tables as MikroORM entities: the typed schema, checked against the migrations by
// test/schema.test.ts. The queries are hand-written SQL (keyset pagination, full-text search and facets
// need it). CHECK constraints, foreign keys, the GIN/trigram indexes and the search-terms trigger are
// the migrations' alone.
import { defineEntity, p } from "@mikro-orm/core";

export const Category = defineEntity({
  name: "Category",
  tableName: "category",
  uniques: [
    { name: "category_slug_key", properties: ["slug"] },
    { name: "category_path_key", properties: ["path"] },
  ],
  indexes: [
    { name: "category_parent", properties: ["parentId"] },
    { name: "category_path_prefix", expression: "create index category_path_prefix on category (path text_pattern_ops)" },
  ],
  properties: {
    id: p.uuid().primary(),
    parentId: p.uuid().nullable(),
    slug: p.text(),
    name: p.text(),
    path: p.text(),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

export const Product = defineEntity({
  name: "Product",
  tableName: "product",
  uniques: [{ name: "product_slug_key", properties: ["slug"] }],
  indexes: [
    { name: "product_category_status", properties: ["categoryId", "status"] },
    { name: "product_newest", columns: [{ name: "status" }, { name: "id", sort: "desc" }] },
    { name: "product_rating", columns: [{ name: "status" }, { name: "rating_avg", sort: "desc" }, { name: "id", sort: "desc" }] },
    { name: "product_popular", columns: [{ name: "status" }, { name: "rating_count", sort: "desc" }, { name: "id", sort: "desc" }] },
    { name: "product_brand", properties: ["brand"] },
  ],
  properties: {
    id: p.uuid().primary(),
    slug: p.text(),
    name: p.text(),
    description: p.text().defaultRaw("''::text"),
    brand: p.text().defaultRaw("''::text"),
    categoryId: p.uuid(),
    status: p.text(),
    tags: p.array().defaultRaw("'{}'::text[]"),
    imageUrls: p.array().defaultRaw("'{}'::text[]"),
    attributes: p.json<Record<string, string>>().defaultRaw("'{}'::jsonb"),
    inStock: p.boolean().defaultRaw("false"),
    ratingCount: p.integer().defaultRaw("0"),
    ratingSum: p.integer().defaultRaw("0"),
    ratingAvg: p.double().generated("(case when rating_count = 0 then 0 else rating_sum::double precision / rating_count end) stored").nullable(),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().defaultRaw("now()"),
    updatedAt: p.datetime().defaultRaw("now()"),
    // Written by PostgreSQL from name, brand, tags and description (see catalog-0001-schema).
    searchVector: p.type("tsvector").generated("(setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', brand), 'B') || setweight(to_tsvector('english', catalog_words(tags)), 'B') || setweight(to_tsvector('english', description), 'C')) stored").nullable().ignoreSchemaChanges("type", "extra"),
  },
});

export const Variant = defineEntity({
  name: "Variant",
  tableName: "variant",
  uniques: [{ name: "variant_product_id_position_key", properties: ["productId", "position"] }],
  indexes: [{ name: "variant_product", properties: ["productId"] }],
  properties: {
    sku: p.text().primary(),
    productId: p.uuid(),
    position: p.integer(),
    options: p.json<Record<string, string>>().defaultRaw("'{}'::jsonb"),
    prices: p.json<Record<string, number>>().defaultRaw("'{}'::jsonb"),
    weightGrams: p.integer().fieldName("weight_grams").defaultRaw("0"),
    lengthMm: p.integer().fieldName("length_mm").nullable(),
    widthMm: p.integer().fieldName("width_mm").nullable(),
    heightMm: p.integer().fieldName("height_mm").nullable(),
  },
});

export const ProductPrice = defineEntity({
  name: "ProductPrice",
  tableName: "product_price",
  indexes: [{ name: "product_price_order", properties: ["currency", "amountMinor", "productId"] }],
  properties: {
    productId: p.uuid().primary(),
    currency: p.character().length(3).primary(),
    amountMinor: p.bigint(),
  },
});

export const SkuStock = defineEntity({
  name: "SkuStock",
  tableName: "sku_stock",
  properties: {
    sku: p.text().primary(),
    inStock: p.boolean(),
    updatedAt: p.datetime().defaultRaw("now()"),
  },
});

export const Review = defineEntity({
  name: "Review",
  tableName: "review",
  uniques: [{ name: "review_one_per_user_and_product", properties: ["productId", "userId"] }],
  indexes: [{ name: "review_product_newest", expression: "create index review_product_newest on review (product_id, id desc)" }],
  properties: {
    id: p.uuid().primary(),
    productId: p.uuid(),
    userId: p.text(),
    rating: p.smallint(),
    title: p.text().defaultRaw("''::text"),
    body: p.text().defaultRaw("''::text"),
    verifiedPurchase: p.boolean().defaultRaw("false"),
    createdAt: p.datetime().defaultRaw("now()"),
  },
});

/** A word products are found by (names and brands), for "did you mean" suggestions. */
export const SearchTerm = defineEntity({
  name: "SearchTerm",
  tableName: "search_term",
  properties: {
    term: p.text().primary(),
  },
});

/** A product a user bought in an order not cancelled: what makes a review a verified purchase. */
export const Purchase = defineEntity({
  name: "Purchase",
  tableName: "purchase",
  indexes: [{ name: "purchase_by_buyer", properties: ["userId", "productId"] }],
  properties: {
    orderId: p.uuid().primary(),
    productId: p.uuid().primary(),
    userId: p.text(),
    purchasedAt: p.datetime().defaultRaw("now()"),
  },
});

export const catalogEntities = [Category, Product, Variant, ProductPrice, SkuStock, Review, SearchTerm, Purchase];
