// The catalog's committed migrations, in order, listed explicitly (never globbed).
import type { MigrationObject } from "@mikro-orm/core";
import { CatalogSchema } from "./catalog-0001-schema.ts";
import { CatalogSearchTerms } from "./catalog-0002-search-terms.ts";
import { CatalogPurchases } from "./catalog-0003-purchases.ts";
import { CatalogVariantWeight } from "./catalog-0004-variant-weight.ts";

// The names are what each database's migrations table records: never change them.
export const catalogMigrations: MigrationObject[] = [
  { name: "catalog_0001_schema", class: CatalogSchema },
  { name: "catalog_0002_search_terms", class: CatalogSearchTerms },
  { name: "catalog_0003_purchases", class: CatalogPurchases },
  { name: "catalog_0004_variant_weight", class: CatalogVariantWeight },
];
