// The cart's committed migrations, in order, listed explicitly (never globbed).
import type { MigrationObject } from "@mikro-orm/core";
import { CartSchema } from "./cart-0001-schema.ts";
import { CartPromotionCodes } from "./cart-0002-promotion-codes.ts";

// The names are what each database's migrations table records: never change them.
export const cartMigrations: MigrationObject[] = [
  { name: "cart_0001_schema", class: CartSchema },
  { name: "cart_0002_promotion_codes", class: CartPromotionCodes },
];
