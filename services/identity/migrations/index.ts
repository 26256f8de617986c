// Identity's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { IdentitySchema } from "./identity-0001-schema.ts";
import { IdentityPasswordResetRequests } from "./identity-0002-password-reset-requests.ts";

export const identityMigrations: MigrationEntry[] = [
  { name: "identity_0001_schema", class: IdentitySchema },
  { name: "identity_0002_password_reset_requests", class: IdentityPasswordResetRequests },
];
