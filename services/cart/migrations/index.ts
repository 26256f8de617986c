// The cart's committed migrations, in order, listed explicitly (never globbed).
import type { MigrationObject } from "@mikro-orm/core";
import { CartSchema } from "./cart-0001-schema.ts";

export const migrations: MigrationObject[] = [{ name: "cart_0001_schema", class: CartSchema }];
