// The order follows its shipments: FULFILLING when packing starts, SHIPPED when every parcel has left,
// DELIVERED when every parcel is delivered — each step in the order's history (actor "shipping") and
// published as OrderStatusChanged, through the same state machine as staff moves. A step the order
// has passed (or a cancelled order) changes nothing; a late event after a missed one walks through
// the steps between, so the history never skips one.
import { isUuid, onEvent, publish, query, type ConsumerDefinition, type EntityManager } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { OrderStatusChangedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { ShipmentDeliveredSchema, ShipmentPackedSchema, ShipmentShippedSchema } from "@bazaar/contracts/bazaar/shipping/v1/events_pb";
import { canTransition, type Status } from "./order-status.ts";
import { addHistory, updateOrder } from "./orders.ts";

const FULFILMENT_PATH: readonly Status[] = ["CONFIRMED", "FULFILLING", "SHIPPED", "DELIVERED"];

async function advance(em: EntityManager, orderId: string, target: Status, note: string): Promise<void> {
  if (!isUuid(orderId)) return;
  const [row] = await query(em, "select status, user_id, email, cancel_actor from orders where id = ? for update", [orderId]);
  if (!row || row.cancel_actor != null) return;
  let status = row.status as Status;
  const from = FULFILMENT_PATH.indexOf(status);
  const to = FULFILMENT_PATH.indexOf(target);
  if (from < 0 || to <= from) return; // not on the path (cancelled, refunded…) or already there
  for (const next of FULFILMENT_PATH.slice(from + 1, to + 1)) {
    if (!canTransition(status, next)) return;
    await updateOrder(em, orderId, { from: [status], set: "status = ?", values: [next] });
    await addHistory(em, orderId, next, "shipping", note);
    await publish(
      em,
      OrderStatusChangedSchema,
      create(OrderStatusChangedSchema, { orderId, userId: String(row.user_id ?? ""), email: String(row.email ?? ""), fromStatus: status, toStatus: next, note }),
    );
    status = next;
  }
}

export function shippingConsumers(options: { name: string }): ConsumerDefinition[] {
  return [
    {
      domain: "shipping",
      durable: `${options.name}-shipments`,
      handlers: [
        onEvent(ShipmentPackedSchema, (event, { em }) => advance(em, event.orderId, "FULFILLING", "packing started")),
        onEvent(ShipmentShippedSchema, async (event, { em }) => {
          if (event.orderFullyShipped) await advance(em, event.orderId, "SHIPPED", `shipped with ${event.carrier} (${event.trackingNumber})`);
          else await advance(em, event.orderId, "FULFILLING", `a parcel shipped with ${event.carrier} (${event.trackingNumber})`);
        }),
        onEvent(ShipmentDeliveredSchema, async (event, { em }) => {
          if (event.orderFullyDelivered) await advance(em, event.orderId, "DELIVERED", "every parcel delivered");
        }),
      ],
    },
  ];
}
