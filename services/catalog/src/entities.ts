// The catalog's tables as MikroORM entities. The queries are hand-written SQL (keyset pagination,
// full-text search and facets need it); these definitions document the schema and let tools load it.
import { defineEntity, p } from "@mikro-orm/core";

export const Category = defineEntity({
  name: "Category",
  tableName: "category",
  properties: {
    id: p.uuid().primary(),
    parentId: p.uuid().nullable(),
    slug: p.string().unique(),
    name: p.string(),
    path: p.string(),
    version: p.integer(),
    createdAt: p.datetime(),
  },
});

export const Product = defineEntity({
  name: "Product",
  tableName: "product",
  properties: {
    id: p.uuid().primary(),
    slug: p.string().unique(),
    name: p.string(),
    description: p.text(),
    brand: p.string(),
    categoryId: p.uuid(),
    status: p.string(),
    tags: p.array(),
    imageUrls: p.array(),
    attributes: p.json<Record<string, string>>(),
    inStock: p.boolean(),
    ratingCount: p.integer(),
    ratingSum: p.integer(),
    ratingAvg: p.double().persist(false),
    version: p.integer(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});

export const Variant = defineEntity({
  name: "Variant",
  tableName: "variant",
  properties: {
    sku: p.string().primary(),
    productId: p.uuid(),
    position: p.integer(),
    options: p.json<Record<string, string>>(),
    prices: p.json<Record<string, number>>(),
  },
});

export const ProductPrice = defineEntity({
  name: "ProductPrice",
  tableName: "product_price",
  properties: {
    productId: p.uuid().primary(),
    currency: p.string().primary(),
    amountMinor: p.bigint(),
  },
});

export const SkuStock = defineEntity({
  name: "SkuStock",
  tableName: "sku_stock",
  properties: {
    sku: p.string().primary(),
    inStock: p.boolean(),
    updatedAt: p.datetime(),
  },
});

export const Review = defineEntity({
  name: "Review",
  tableName: "review",
  properties: {
    id: p.uuid().primary(),
    productId: p.uuid(),
    userId: p.string(),
    rating: p.smallint(),
    title: p.string(),
    body: p.text(),
    verifiedPurchase: p.boolean(),
    createdAt: p.datetime(),
  },
});

export const entities = [Category, Product, Variant, ProductPrice, SkuStock, Review];
