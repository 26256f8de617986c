// Which customers have ordered, from order's OrderPlaced events (a first-order promotion is for a
// customer with none), recorded in the same transaction as the consumer's inbox row.
import { onEvent, type EventHandler } from "@bazaar/platform";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";

export const orderHandlers: EventHandler[] = [
  onEvent(OrderPlacedSchema, async (event, { em }) => {
    if (!event.userId) return;
    await em.execute("insert into customer_order (customer_id, order_id) values (?, ?) on conflict do nothing", [event.userId, event.orderId], "run");
  }),
];
