// The inventory's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { CreateInventory } from "./inventory-0001-create.ts";
import { Restock } from "./inventory-0002-restock.ts";
import { IdempotentAdjustments } from "./inventory-0003-idempotent-adjustments.ts";

// The names are what each database's migrations table records: never change them.
export const inventoryMigrations: MigrationEntry[] = [
  { name: "inventory_0001_create", class: CreateInventory },
  { name: "inventory_0002_restock", class: Restock },
  { name: "inventory_0003_idempotent_adjustments", class: IdempotentAdjustments },
];
