// The returns service, declared: built from its config without listening, so tests start it on port 0.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { returnsMigrations } from "../migrations/index.ts";
import type { ReturnsConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { returnsEntities } from "./entities.ts";
import { returnsHandlers } from "./handlers.ts";
import { createOrderAccess } from "./order-access.ts";
import { returnsMetrics } from "./metrics.ts";
import { gatherPersonalData, personalDataConsumers } from "./personal-data.ts";
import { createRefunds, startRefundRetries } from "./refunds.ts";
import { createRestocks, startRestockRetries } from "./restocks.ts";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";

export interface ReturnsOptions {
  config: ReturnsConfig;
  /** Consul name (and database bazaar_<name>). Default "returns"; tests use unique names. */
  name?: string;
  /** Test seam: called between the payment refund and its record (the crash test kills the process there). */
  afterRefundCall?: (returnId: string) => void;
  /** Test seam: called between inventory's restock and its record (the crash test kills the process there). */
  afterRestockCall?: (returnId: string) => void;
}

export function returns(options: ReturnsOptions): ServiceDefinition<Database> {
  const { config } = options;
  return {
    name: options.name ?? "returns",
    identity: "returns",
    version: "1.0.0",
    database: { entities: returnsEntities, migrations: returnsMigrations },
    publishes: eventDomains.publishes,
    consumes: eventDomains.consumes,
    setup(runtime) {
      const { database, logger } = runtime;
      const metrics = returnsMetrics(runtime.registry);
      const orders = createOrderAccess(runtime);
      const refunds = createRefunds({ database, orders, logger, metrics, ...(options.afterRefundCall ? { afterRefundCall: options.afterRefundCall } : {}) });
      const restocks = createRestocks({
        database,
        inventory: runtime.serviceClientFor(InventoryService),
        logger,
        metrics,
        ...(options.afterRestockCall ? { afterRestockCall: options.afterRestockCall } : {}),
      });
      const shipping = runtime.serviceClientFor(ShippingService);
      return {
        routes: (router) =>
          router.service(ReturnsService, returnsHandlers({ database, orders, refunds, restocks, shipping, logger, windowDays: config.RETURNS_WINDOW_DAYS, metrics })),
        personalData: gatherPersonalData(database),
        consumers: personalDataConsumers(runtime.name),
        background: () => [
          startRefundRetries(refunds, logger, config.RETURNS_REFUND_RETRY_MS),
          startRestockRetries(restocks, logger, config.RETURNS_RESTOCK_RETRY_MS),
          { stop: () => orders.close() },
        ],
      };
    },
  };
}
