// The inventory service, declared: its RPCs, database, events and the expiry sweeper. Built from a
// typed options object without listening, so tests start it on port 0 with createService.
import { startSweep, type Database, type ServiceDefinition, type Sweep } from "@bazaar/platform";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { inventoryMigrations } from "../migrations/index.ts";
import { inventoryEntities } from "./entities.ts";
import { eventDomains } from "./event-domains.ts";
import { inventoryHandlers } from "./handlers.ts";
import { expireDue } from "./reservations.ts";

export interface InventoryOptions {
  /** Consul name (default "inventory"); its database is bazaar_<name>. Tests pass unique names. */
  name?: string;
  /** Pause between expiry sweeps (default 1000 ms). */
  sweepIntervalMs?: number;
  /** Reservations expired per sweep transaction (default 100). */
  sweepBatchSize?: number;
  /** Receives the sweeper once the service has built it (tests trigger sweeps through it). */
  onSweeper?: (sweeper: Sweep) => void;
}

export function inventory(options: InventoryOptions = {}): ServiceDefinition<Database> {
  return {
    name: options.name ?? "inventory",
    version: "1.0.0",
    database: { entities: inventoryEntities, migrations: inventoryMigrations },
    publishes: eventDomains.publishes,
    setup: ({ database, logger }) => ({
      routes: (router) => router.service(InventoryService, inventoryHandlers(database)),
      background() {
        // Lapsed reservations give their stock back.
        const sweeper = startSweep({
          what: "reservation sweep",
          batch: (limit) => expireDue(database, limit),
          batchSize: options.sweepBatchSize ?? 100,
          intervalMs: options.sweepIntervalMs ?? 1000,
          logger,
        });
        options.onSweeper?.(sweeper);
        return [sweeper];
      },
    }),
  };
}
