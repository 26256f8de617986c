// The catalog service, declared: tests start it with createService on port 0, main.ts with runService.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { catalogMigrations } from "../migrations/index.ts";
import { catalogEntities } from "./entities.ts";
import { eventDomains } from "./event-domains.ts";
import { catalogHandlers } from "./handlers.ts";
import { stockHandlers } from "./inventory-events.ts";
import { purchaseHandlers } from "./reviews/order-events.ts";
import { gatherPersonalData, personalDataConsumers } from "./reviews/personal-data.ts";

export interface CatalogOptions {
  /** Consul name (and database bazaar_<name>). Default "catalog"; tests pass unique names. */
  name?: string;
  /** Durable consumer of inventory's stock events. Default "catalog-stock" (`<name>-stock` for other names). */
  stockDurable?: string;
  /** Follow inventory's OutOfStock / BackInStock. Default true. */
  followStock?: boolean;
  /** Follow the order service's OrderPlaced / OrderCancelled for "verified purchase" reviews. Default true. */
  followOrders?: boolean;
}

export function catalog(options: CatalogOptions = {}): ServiceDefinition<Database> {
  const name = options.name ?? "catalog";
  return {
    name,
    version: "1.0.0",
    database: { entities: catalogEntities, migrations: catalogMigrations },
    publishes: eventDomains.publishes,
    consumes: eventDomains.consumes.filter((domain) => (domain !== "inventory" || options.followStock !== false) && (domain !== "order" || options.followOrders !== false)),
    setup: (runtime) => ({
      routes: (router) => router.service(CatalogService, catalogHandlers(runtime)),
      personalData: gatherPersonalData(runtime.database),
      consumers: [
        ...(options.followStock === false ? [] : [{ domain: "inventory", durable: options.stockDurable ?? `${name}-stock`, handlers: stockHandlers }]),
        ...(options.followOrders === false ? [] : [{ domain: "order", durable: `${name}-purchases`, handlers: purchaseHandlers }]),
        ...personalDataConsumers(name),
      ],
    }),
  };
}
