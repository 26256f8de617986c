// The inventory service, declared: its RPCs, database, events and the expiry sweeper. Built from a
// typed options object without listening, so tests start it on port 0 with createService.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { migrations } from "../migrations/index.ts";
import { entities } from "./entities.ts";
import { inventoryHandlers } from "./handlers.ts";
import { startSweeper, type Sweeper } from "./sweeper.ts";

export interface InventoryOptions {
  /** Consul name (default "inventory"); its database is bazaar_<name>. Tests pass unique names. */
  name?: string;
  /** Pause between expiry sweeps (default 1000 ms). */
  sweepIntervalMs?: number;
  /** Reservations expired per sweep transaction (default 100). */
  sweepBatchSize?: number;
  /** Receives the sweeper once the service has built it (tests trigger sweeps through it). */
  onSweeper?: (sweeper: Sweeper) => void;
}

export function inventoryService(options: InventoryOptions = {}): ServiceDefinition<Database> {
  return {
    name: options.name ?? "inventory",
    version: "1.0.0",
    database: { entities, migrations },
    publishes: ["inventory"],
    setup: ({ database, logger }) => ({
      routes: (router) => router.service(InventoryService, inventoryHandlers(database)),
      background() {
        const sweeper = startSweeper({
          database,
          logger,
          ...(options.sweepIntervalMs !== undefined ? { intervalMs: options.sweepIntervalMs } : {}),
          ...(options.sweepBatchSize !== undefined ? { batchSize: options.sweepBatchSize } : {}),
        });
        options.onSweeper?.(sweeper);
        return [sweeper];
      },
    }),
  };
}
