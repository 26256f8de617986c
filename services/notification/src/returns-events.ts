// Returns' events as messages to the shopper who asked for the return (its event carries the order's
// email): the request acknowledged, approved (with the return label's link when staff bought one),
// rejected (with staff's note), the parcel received, and the refund (its amount). Topic "orders":
// transactional, always sent by email. A return's refund also moves the order's money (OrderRefunded
// with refund id "return-<id>"), which order-events.ts leaves to the message sent here.
import { onEvent, type ConsumerDefinition, type EntityManager } from "@bazaar/platform";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  ReturnApprovedSchema,
  ReturnReceivedSchema,
  ReturnRefundedSchema,
  ReturnRejectedSchema,
  ReturnRequestedSchema,
} from "@bazaar/contracts/bazaar/returns/v1/events_pb";
import type { Links } from "./links.ts";
import { contactOf, type MessageQueue } from "./messages.ts";
import { DEFAULT_LOCALE } from "./templates.ts";

export interface ReturnsConsumersOptions {
  name: string;
  queue: MessageQueue;
  links: Links;
}

/** What every returns event says about whom to tell. */
interface ReturnEvent {
  returnId: string;
  orderId: string;
  userId: string;
  email: string;
  occurredAt?: Timestamp | undefined;
}

export function returnsConsumers(options: ReturnsConsumersOptions): ConsumerDefinition[] {
  const { queue, links } = options;

  /** Queues `template` for the return's shopper; a return without an email has nobody to tell. */
  async function tellShopper(em: EntityManager, eventId: string, event: ReturnEvent, template: string, data: Record<string, unknown> = {}) {
    if (!event.email) return;
    const locale = (event.userId ? (await contactOf(em, event.userId))?.locale : undefined) ?? DEFAULT_LOCALE;
    await queue.enqueue(em, {
      eventId,
      ...(event.userId ? { userId: event.userId } : {}),
      channel: "email",
      recipient: event.email,
      template,
      topic: "orders",
      locale,
      ...(event.occurredAt ? { occurredAt: timestampDate(event.occurredAt) } : {}),
      data: { orderId: event.orderId, returnId: event.returnId, orderUrl: links.storefront(`/orders/${event.orderId}`), ...data },
    });
  }

  return [
    {
      domain: "returns",
      durable: `${options.name}-returns`,
      handlers: [
        onEvent(ReturnRequestedSchema, (event, { em, eventId }) => tellShopper(em, eventId, event, "return-requested")),
        onEvent(ReturnApprovedSchema, (event, { em, eventId }) =>
          tellShopper(em, eventId, event, "return-approved", {
            carrier: event.carrier,
            trackingNumber: event.trackingNumber,
            labelUrl: event.labelUrl,
            trackingUrl: event.trackingUrl,
          }),
        ),
        onEvent(ReturnRejectedSchema, (event, { em, eventId }) => tellShopper(em, eventId, event, "return-rejected", { note: event.note })),
        onEvent(ReturnReceivedSchema, (event, { em, eventId }) => tellShopper(em, eventId, event, "return-received")),
        onEvent(ReturnRefundedSchema, (event, { em, eventId }) =>
          tellShopper(em, eventId, event, "return-refunded", {
            amount: { minor: Number(event.amount?.amountMinor ?? 0n), currency: event.amount?.currencyCode || "EUR" },
          }),
        ),
      ],
    },
  ];
}
