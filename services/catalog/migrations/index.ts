// The catalog's committed migrations, in order, listed explicitly (never globbed).
import type { MigrationObject } from "@mikro-orm/core";
import { CatalogSchema } from "./catalog-0001-schema.ts";
import { CatalogSearchTerms } from "./catalog-0002-search-terms.ts";
import { CatalogPurchases } from "./catalog-0003-purchases.ts";

export const migrations: MigrationObject[] = [
  { name: "catalog_0001_schema", class: CatalogSchema },
  { name: "catalog_0002_search_terms", class: CatalogSearchTerms },
  { name: "catalog_0003_purchases", class: CatalogPurchases },
];
