// Payment's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { PaymentSchema } from "./payment-0001-schema.ts";

export const paymentMigrations: MigrationEntry[] = [{ name: "payment_0001_schema", class: PaymentSchema }];
