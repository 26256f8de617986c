// Payment outcomes that arrive as events (a slow gateway, a webhook): a PENDING order whose lease is
// free is claimed in the consumer's transaction and driven at once. The inbox drops redelivered
// copies; a copy with a new event id finds the order decided already (or the compensation
// idempotent), so stock is released once however often a PaymentFailed arrives.
import { isUuid, onEvent, query, type ConsumerDefinition, type EntityManager, type Logger } from "@bazaar/platform";
import { PaymentAuthorizedSchema, PaymentFailedSchema } from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { LEASE_SET, leaseValues, type LeaseHolder } from "./orders.ts";
import type { Saga } from "./saga.ts";

export interface PaymentEventsOptions {
  /** The service's name: the durable consumer is `<name>-payment-outcomes`. */
  name: string;
  saga: Saga;
  logger: Logger;
  leaseMs: number;
  holder?: LeaseHolder;
}

export function paymentConsumers(options: PaymentEventsOptions): ConsumerDefinition[] {
  async function kick(orderId: string, em: EntityManager): Promise<void> {
    if (!isUuid(orderId)) return;
    const claimed = await query(
      em,
      `update orders set ${LEASE_SET} where id = ? and status = 'PENDING' and lease_until <= clock_timestamp() returning id`,
      [...leaseValues(options.leaseMs, options.holder), orderId],
    );
    if (claimed.length === 0) return; // decided already, or a driver is at work on it
    // Outside the consumer's transaction: the saga calls other services.
    setImmediate(() => {
      options.saga.drive(orderId).catch((error: unknown) => options.logger.warn({ err: error, order_id: orderId }, "payment event could not drive order; recovery will"));
    });
  }

  return [
    {
      domain: "payment",
      durable: `${options.name}-payment-outcomes`,
      handlers: [onEvent(PaymentFailedSchema, (event, { em }) => kick(event.orderId, em)), onEvent(PaymentAuthorizedSchema, (event, { em }) => kick(event.orderId, em))],
    },
  ];
}
