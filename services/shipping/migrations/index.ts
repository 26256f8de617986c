// Shipping's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { ShippingSchema } from "./shipping-0001-schema.ts";
import { ShippingShipments } from "./shipping-0002-shipments.ts";
import { ShippingPersonalData } from "./shipping-0003-personal-data.ts";

export const shippingMigrations: MigrationEntry[] = [
  { name: "shipping_0001_schema", class: ShippingSchema },
  { name: "shipping_0002_shipments", class: ShippingShipments },
  { name: "shipping_0003_personal_data", class: ShippingPersonalData },
];
