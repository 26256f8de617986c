// Shared by the inventory tests: an inventory service started in-process on port 0 against the real
// PostgreSQL, NATS and Consul, typed clients with signed tokens, and direct database reads.
import type { Client } from "@connectrpc/connect";
import { startTestService, testEnv, uniqueName, type TestService } from "@bazaar/platform/testing";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { inventory, type InventoryOptions } from "../src/index.ts";

export const env: NodeJS.ProcessEnv = testEnv;

export const unique = (prefix: string) => uniqueName(prefix);
/** A unique SKU in the catalog's format (upper case). */
export const uniqueSku = (prefix = "SKU") => uniqueName(prefix).toUpperCase();

export type Harness = TestService<typeof InventoryService> & {
  /** As the checkout saga calls it: the order service's token. */
  checkout: Client<typeof InventoryService>;
};

/** An inventory service on port 0; with `name`, a second instance on that one's database. */
export async function startInventory(options: Omit<InventoryOptions, "name"> & { name?: string } = {}): Promise<Harness> {
  const harness = await startTestService({
    contract: InventoryService,
    prefix: "inventory",
    peerSubject: "order",
    ...(options.name ? { name: options.name } : {}),
    define: (name) => inventory({ sweepIntervalMs: 200, ...options, name }),
  });
  return { ...harness, checkout: harness.peer };
}

export { eventually } from "@bazaar/platform/testing";

/** Stock of one SKU at one location, read straight from the database. */
export async function levelOf(harness: Harness, sku: string, location = "default") {
  const [row] = await harness.sql<{ on_hand: string; reserved: string }>("select on_hand, reserved from stock_level where sku = $1 and location = $2", [
    sku,
    location,
  ]);
  return row ? { onHand: Number(row.on_hand), reserved: Number(row.reserved) } : undefined;
}

export { failure } from "@bazaar/platform/testing";
