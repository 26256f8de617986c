// The promotion service, declared: built from its config without listening, so tests start it on port 0.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { promotionMigrations } from "../migrations/index.ts";
import type { PromotionConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { createCartEvaluator } from "./cart-evaluation.ts";
import { promotionEntities } from "./entities.ts";
import { promotionHandlers } from "./handlers.ts";
import { orderHandlers } from "./order-events.ts";
import { createPromotionStore } from "./promotion-store.ts";
import { createGate } from "./gate.ts";
import { promotionMetrics } from "./metrics.ts";
import { createRedemptions } from "./redemptions.ts";
import { gatherPersonalData } from "./personal-data.ts";

export interface PromotionOptions {
  config: PromotionConfig;
  /** Consul name (and database bazaar_<name>). Default "promotion"; tests use unique names. */
  name?: string;
  /** Follow order's events (who has ordered, for first-order promotions). Default true. */
  followOrders?: boolean;
}

export function promotion(options: PromotionOptions): ServiceDefinition<Database> {
  const name = options.name ?? "promotion";
  const followOrders = options.followOrders ?? true;
  return {
    name,
    version: "1.0.0",
    database: { entities: promotionEntities, migrations: promotionMigrations },
    publishes: eventDomains.publishes,
    consumes: followOrders ? eventDomains.consumes : [],
    setup: ({ database, registry, config }) => ({
      routes: (router) =>
        router.service(
          PromotionService,
          promotionHandlers({
            evaluateCart: createCartEvaluator(database),
            store: createPromotionStore(database),
            redemptions: createRedemptions(database),
            // The checkout path's database work, one connection short of the pool (the runtime's).
            gate: createGate(Math.max(1, config.DB_POOL_SIZE - 1)),
            metrics: promotionMetrics(registry),
          }),
        ),
      personalData: gatherPersonalData(database),
      consumers: followOrders ? [{ domain: "order", durable: `${name}-orders`, handlers: orderHandlers }] : [],
    }),
  };
}
