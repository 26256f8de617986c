// The order service, declared: its RPCs, database, events, the payment-outcome consumer and the
// background work (saga recovery, idempotency-key sweeper). Built from its config without listening,
// so tests start it on port 0 with createService.
import type { Database, ServiceDefinition } from "@bazaar/platform";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { orderMigrations } from "../migrations/index.ts";
import type { OrderConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { orderEntities } from "./entities.ts";
import { orderHandlers } from "./handlers.ts";
import { startKeySweeper } from "./idempotency.ts";
import { leaseHolderFor } from "./lease-holder.ts";
import { paymentConsumers } from "./payment-events.ts";
import { gatherPersonalData, personalDataConsumers } from "./personal-data.ts";
import { startRecovery, type Recovery } from "./recovery.ts";
import { createSaga } from "./saga.ts";
import type { SagaSteps } from "./saga-steps.ts";
import { shippingConsumers } from "./shipping-events.ts";
import { createSteps } from "./steps.ts";

export interface OrderOptions {
  config: OrderConfig;
  /** Consul name (default "order"); its database is bazaar_<name>. Tests pass unique names. */
  name?: string;
  /** Wraps the saga's calls to other services, e.g. for a test to act between two steps. Default: none. */
  wrapSteps?: (steps: SagaSteps) => SagaSteps;
  /** Receives the recovery driver once built (tests run a scan on demand). */
  onRecovery?: (recovery: Recovery) => void;
}

export function order(options: OrderOptions): ServiceDefinition<Database> {
  const { config } = options;
  const name = options.name ?? "order";
  const leaseMs = config.ORDER_SAGA_LEASE_MS;
  const holder = leaseHolderFor(config);

  return {
    name,
    identity: "order",
    version: "1.0.0",
    database: { entities: orderEntities, migrations: orderMigrations },
    publishes: eventDomains.publishes,
    consumes: eventDomains.consumes,
    setup(runtime) {
      const { database, logger } = runtime;
      // One saga, driven by the RPCs, the payment consumers and recovery alike.
      const steps = createSteps(runtime);
      const saga = createSaga({
        database,
        steps: options.wrapSteps ? options.wrapSteps(steps) : steps,
        logger,
        reservationTtlSeconds: config.ORDER_RESERVATION_TTL_SECONDS,
        paymentUnavailableRetries: config.ORDER_PAYMENT_UNAVAILABLE_RETRIES,
      });
      return {
        routes: (router) => router.service(OrderService, orderHandlers({ runtime, database, saga, logger, leaseMs, holder })),
        personalData: gatherPersonalData(database),
        consumers: [...paymentConsumers({ name, saga, logger, leaseMs, holder }), ...shippingConsumers({ name }), ...personalDataConsumers(name)],
        background() {
          const recovery = startRecovery({ database, saga, logger, intervalMs: config.ORDER_RECOVERY_INTERVAL_MS, leaseMs, holder });
          options.onRecovery?.(recovery);
          return [recovery, startKeySweeper({ database, logger, retentionHours: config.ORDER_IDEMPOTENCY_RETENTION_HOURS })];
        },
      };
    },
  };
}
