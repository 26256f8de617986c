// Promotion's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { PromotionSchema } from "./promotion-0001-schema.ts";

export const promotionMigrations: MigrationEntry[] = [{ name: "promotion_0001_schema", class: PromotionSchema }];
