// The payment service, declared: built from its config without listening, so tests start it on port 0.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { PaymentService } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { paymentMigrations } from "../migrations/index.ts";
import type { PaymentConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { paymentEntities } from "./entities.ts";
import type { PaymentGateway } from "./gateway.ts";
import { paymentHandlers } from "./handlers.ts";
import { gatherPersonalData, personalDataConsumers } from "./personal-data.ts";
import { createPayments } from "./payments.ts";
import { createStripeClient, createStripeGateway } from "./stripe-gateway.ts";
import { stripeWebhook } from "./stripe-webhook.ts";
import { createTestGateway } from "./test-gateway.ts";

export interface PaymentOptions {
  config: PaymentConfig;
  /** Consul name (and database bazaar_<name>). Default "payment"; tests use unique names. */
  name?: string;
  /** Wraps the configured gateway, e.g. to count its calls in a test. Default: none. */
  wrapGateway?: (gateway: PaymentGateway) => PaymentGateway;
}

function gatewayFor(config: PaymentConfig, database: Database): PaymentGateway {
  if (config.PAYMENT_GATEWAY === "stripe") {
    return createStripeGateway({ stripe: createStripeClient({ secretKey: config.STRIPE_SECRET_KEY!, apiUrl: config.STRIPE_API_URL }) });
  }
  return createTestGateway({ database, slowMs: config.PAYMENT_TEST_SLOW_MS });
}

export function payment(options: PaymentOptions): ServiceDefinition<Database> {
  const { config } = options;
  return {
    name: options.name ?? "payment",
    version: "1.0.0",
    database: { entities: paymentEntities, migrations: paymentMigrations },
    publishes: eventDomains.publishes,
    consumes: eventDomains.consumes,
    setup({ database, logger }) {
      const configured = gatewayFor(config, database);
      const payments = createPayments({
        database,
        gateway: options.wrapGateway ? options.wrapGateway(configured) : configured,
        logger,
        // Longer than the slowest gateway call, so that a live call's hold never lapses.
        leaseMs: Math.max(120_000, config.PAYMENT_TEST_SLOW_MS + 30_000),
      });
      return {
        routes: (router) => router.service(PaymentService, paymentHandlers(payments)),
        personalData: gatherPersonalData(database),
        consumers: personalDataConsumers(options.name ?? "payment"),
        // Served only where Stripe can sign for it.
        ...(config.STRIPE_WEBHOOK_SECRET ? { webhooks: { "/webhooks/stripe": stripeWebhook({ database, secret: config.STRIPE_WEBHOOK_SECRET, logger }) } } : {}),
      };
    },
  };
}
