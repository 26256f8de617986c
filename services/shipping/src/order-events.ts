// What the shipping service follows of the order service: a paid order (OrderPlaced) gets its one
// shipment; a cancelled order (OrderCancelled) has its shipments that have not left cancelled. The
// platform's inbox drops redeliveries; a re-published OrderPlaced meets the one-per-order index.
import { isUuid, onEvent, type ConsumerDefinition, type Logger } from "@bazaar/platform";
import { OrderCancelledSchema, OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { cancelForOrder, createFromOrder, type Carriers } from "./shipments.ts";

export function orderConsumers(options: { name: string; carriers: Carriers; logger: Logger }): ConsumerDefinition[] {
  return [
    {
      domain: "order",
      durable: `${options.name}-orders`,
      handlers: [
        onEvent(OrderPlacedSchema, async (event, { em }) => {
          // Orders placed before OrderPlaced carried an address (before this service) are not shipped from here.
          if (!isUuid(event.orderId) || !event.shippingAddress) return;
          const a = event.shippingAddress;
          await createFromOrder(em, {
            orderId: event.orderId,
            userId: event.userId,
            cartTokenHash: event.cartTokenHash,
            optionId: event.shippingOptionId,
            address: {
              recipientName: a?.recipientName ?? "",
              line1: a?.line1 ?? "",
              line2: a?.line2 ?? "",
              city: a?.city ?? "",
              region: a?.region ?? "",
              postalCode: a?.postalCode ?? "",
              countryCode: a?.countryCode ?? "",
              phone: a?.phone ?? "",
            },
            lines: event.lines.map((line) => ({ sku: line.sku, quantity: line.quantity })),
          });
        }),
        onEvent(OrderCancelledSchema, async (event, { em }) => {
          if (!isUuid(event.orderId)) return;
          const cancelled = await cancelForOrder(em, event.orderId, event.reason || "The order was cancelled", options.carriers);
          if (cancelled > 0) options.logger.info({ order_id: event.orderId, cancelled }, "shipments of a cancelled order cancelled");
        }),
      ],
    },
  ];
}
