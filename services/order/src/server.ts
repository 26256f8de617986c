// The order service, declared: its RPCs, database, events, the payment-outcome consumer and the
// background work (saga recovery, idempotency-key sweeper). Built from its config without listening,
// so tests start it on port 0 with createService.
import type { ServiceDefinition } from "@bazaar/platform";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { orderMigrations } from "../migrations/index.ts";
import type { OrderConfig } from "./config.ts";
import { entities } from "./entities.ts";
import { orderHandlers } from "./handlers.ts";
import { startKeySweeper } from "./idempotency.ts";
import { leaseHolderFor } from "./lease-holder.ts";
import { paymentConsumers } from "./payment-events.ts";
import { startRecovery, type Recovery } from "./recovery.ts";
import { createSaga, type Saga } from "./saga.ts";
import type { SagaSteps } from "./saga-steps.ts";
import { createSteps, type Upstreams } from "./steps.ts";

export interface OrderOptions {
  config: OrderConfig;
  /** Consul name (default "order"); its database is bazaar_<name>. Tests pass unique names. */
  name?: string;
  /** Consul names of cart, inventory, payment and identity (default: those names). */
  upstreams?: Upstreams;
  /** Wraps the saga's calls to other services, e.g. for a test to act between two steps. Default: none. */
  wrapSteps?: (steps: SagaSteps) => SagaSteps;
  /** Receives the recovery driver once built (tests run a scan on demand). */
  onRecovery?: (recovery: Recovery) => void;
}

export function order(options: OrderOptions): ServiceDefinition {
  const { config } = options;
  const name = options.name ?? "order";
  const upstreams = options.upstreams ?? {};
  const leaseMs = config.ORDER_SAGA_LEASE_MS;
  const holder = leaseHolderFor(config);
  let saga: Saga | undefined;

  return {
    name,
    version: "1.0.0",
    database: { entities, migrations: orderMigrations },
    publishes: ["order"],
    routes(router, runtime) {
      const database = runtime.database!;
      saga = createSaga({
        database,
        steps: options.wrapSteps ? options.wrapSteps(createSteps(runtime, upstreams)) : createSteps(runtime, upstreams),
        logger: runtime.logger,
        reservationTtlSeconds: config.ORDER_RESERVATION_TTL_SECONDS,
        paymentUnavailableRetries: config.ORDER_PAYMENT_UNAVAILABLE_RETRIES,
      });
      router.service(OrderService, orderHandlers({ runtime, database, saga, logger: runtime.logger, upstreams, leaseMs, holder }));
    },
    consumers: (runtime) => paymentConsumers({ name, saga: saga!, logger: runtime.logger, leaseMs, holder }),
    background(runtime) {
      const recovery = startRecovery({
        database: runtime.database!,
        saga: saga!,
        logger: runtime.logger,
        intervalMs: config.ORDER_RECOVERY_INTERVAL_MS,
        leaseMs,
        holder,
      });
      options.onRecovery?.(recovery);
      return [recovery, startKeySweeper({ database: runtime.database!, logger: runtime.logger, retentionHours: config.ORDER_IDEMPOTENCY_RETENTION_HOURS })];
    },
  };
}
