// Identity's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { IdentitySchema } from "./identity-0001-schema.ts";

export const identityMigrations: MigrationEntry[] = [{ name: "identity_0001_schema", class: IdentitySchema }];
