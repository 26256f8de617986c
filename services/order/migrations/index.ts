// The order service's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { OrderSchema } from "./order-0001-schema.ts";
import { CartClaimLeaseHolder } from "./order-0002-cart-claim-lease-holder.ts";
import { OrderPromotions } from "./order-0003-promotions.ts";

export const orderMigrations: MigrationEntry[] = [
  { name: "order_0001_schema", class: OrderSchema },
  { name: "order_0002_cart_claim_lease_holder", class: CartClaimLeaseHolder },
  { name: "order_0003_promotions", class: OrderPromotions },
];
