// The shipping service, declared: built from its config without listening, so tests start it on port 0.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { shippingMigrations } from "../migrations/index.ts";
import type { ShippingConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { shippingEntities } from "./entities.ts";
import { shippingHandlers } from "./handlers.ts";
import type { CarrierPort } from "./carrier.ts";
import { carrierWebhook } from "./carrier-webhook.ts";
import { orderConsumers } from "./order-events.ts";
import { gatherPersonalData, personalDataConsumers } from "./personal-data.ts";
import { seedShipping } from "./defaults.ts";
import { createQuotes } from "./quotes.ts";
import { createShipments } from "./shipments.ts";
import { createTestCarrier } from "./test-carrier.ts";
import { startQuoteSweeper } from "./sweeper.ts";

export interface ShippingOptions {
  config: ShippingConfig;
  /** Consul name (and database bazaar_<name>). Default "shipping"; tests use unique names. */
  name?: string;
  /** Carrier adapters by name, besides the built-in test carrier (see carrier.ts). */
  carriers?: CarrierPort[];
}

export function shipping(options: ShippingOptions): ServiceDefinition<Database> {
  const { config } = options;
  return {
    name: options.name ?? "shipping",
    version: "1.0.0",
    database: { entities: shippingEntities, migrations: shippingMigrations },
    publishes: eventDomains.publishes,
    consumes: eventDomains.consumes,
    async setup({ database, logger, name }) {
      if (config.SHIPPING_SEED_DEFAULTS) {
        // Several instances may start at once: the loser of a race meets the area key and says so.
        await seedShipping(database).catch((error: unknown) => logger.warn({ err: error }, "default shipping zones not created (another instance may have)"));
      }
      const quotes = createQuotes({ database, ttlSeconds: config.SHIPPING_QUOTE_TTL_SECONDS });
      const carriers = new Map([createTestCarrier(), ...(options.carriers ?? [])].map((carrier) => [carrier.name, carrier]));
      const shipments = createShipments({ database, carriers });
      return {
        routes: (router) => router.service(ShippingService, shippingHandlers(database, quotes, shipments)),
        personalData: gatherPersonalData(database),
        consumers: [...orderConsumers({ name, carriers, logger }), ...personalDataConsumers(name)],
        // The test carrier pushes tracking updates here, signed; served only where a key is configured.
        ...(config.SHIPPING_TEST_CARRIER_WEBHOOK_SECRET
          ? {
              webhooks: {
                "/webhooks/carrier/test": carrierWebhook({
                  carrier: "test",
                  secret: config.SHIPPING_TEST_CARRIER_WEBHOOK_SECRET,
                  toleranceSeconds: config.SHIPPING_WEBHOOK_TOLERANCE_SECONDS,
                  database,
                  shipments,
                  logger,
                }),
              },
            }
          : {}),
        background: () => [
          startQuoteSweeper({ quotes, logger, intervalMs: config.SHIPPING_SWEEP_INTERVAL_MS, retentionSeconds: config.SHIPPING_QUOTE_RETENTION_SECONDS }),
        ],
      };
    },
  };
}
