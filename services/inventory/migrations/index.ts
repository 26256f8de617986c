// The inventory's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { migrations as created } from "./0001-create-inventory.ts";
import { Restock } from "./0002-restock.ts";

export const migrations: MigrationEntry[] = [...created, { name: "inventory_0002_restock", class: Restock }];
