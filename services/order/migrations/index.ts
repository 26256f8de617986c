// The order service's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { OrderSchema } from "./order-0001-schema.ts";

export const orderMigrations: MigrationEntry[] = [{ name: "order_0001_schema", class: OrderSchema }];
