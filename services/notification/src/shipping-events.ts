// Shipping events as messages to the order's buyer (known from its confirmation: order_contact): a
// parcel shipped, with the carrier and a tracking link, and a parcel delivered. Topic "shipping", which a
// user may turn off.
import { onEvent, typedQueries, type ConsumerDefinition, type EntityManager } from "@bazaar/platform";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ShipmentDeliveredSchema, ShipmentShippedSchema } from "@bazaar/contracts/bazaar/shipping/v1/events_pb";
import { notificationEntities } from "./entities.ts";
import type { Links } from "./links.ts";
import { contactOf, type MessageQueue } from "./messages.ts";
import { DEFAULT_LOCALE } from "./templates.ts";

export interface ShippingConsumersOptions {
  name: string;
  queue: MessageQueue;
  links: Links;
}

export function shippingConsumers(options: ShippingConsumersOptions): ConsumerDefinition[] {
  const { queue, links } = options;

  /** Queues `template` for the buyer of `orderId`; an order never confirmed here has nobody to tell. */
  async function tellBuyer(em: EntityManager, eventId: string, orderId: string, template: string, occurredAt: Date | undefined, data: Record<string, unknown>) {
    const buyer = await typedQueries(em, notificationEntities)
      .selectFrom("order_contact")
      .select(["email", "user_id"])
      .where("order_id", "=", orderId)
      .executeTakeFirst();
    if (!buyer?.email) return;
    const locale = (buyer.user_id ? (await contactOf(em, buyer.user_id))?.locale : undefined) ?? DEFAULT_LOCALE;
    await queue.enqueue(em, {
      eventId,
      ...(buyer.user_id ? { userId: buyer.user_id } : {}),
      channel: "email",
      recipient: buyer.email,
      template,
      topic: "shipping",
      locale,
      ...(occurredAt ? { occurredAt } : {}),
      data: { orderId, orderUrl: links.storefront(`/orders/${orderId}`), ...data },
    });
  }

  return [
    {
      domain: "shipping",
      durable: `${options.name}-shipping`,
      handlers: [
        onEvent(ShipmentShippedSchema, (event, { em, eventId }) =>
          tellBuyer(em, eventId, event.orderId, "shipment-shipped", event.occurredAt ? timestampDate(event.occurredAt) : undefined, {
            carrier: event.carrier,
            trackingNumber: event.trackingNumber,
            trackingUrl: event.trackingUrl,
            fullyShipped: event.orderFullyShipped,
          }),
        ),
        onEvent(ShipmentDeliveredSchema, (event, { em, eventId }) =>
          tellBuyer(em, eventId, event.orderId, "shipment-delivered", event.occurredAt ? timestampDate(event.occurredAt) : undefined, {
            fullyDelivered: event.orderFullyDelivered,
          }),
        ),
      ],
    },
  ];
}
