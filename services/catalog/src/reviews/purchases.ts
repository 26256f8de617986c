// Verified purchases follow the order service: OrderPlaced records which products a signed-in buyer
// bought, OrderCancelled takes that order's back — in the same transaction as the consumer's inbox
// row, so a redelivery applies once. Guest orders (no user) verify nothing.
import { onEvent, pgArray, type EventHandler } from "@bazaar/platform";
import { OrderCancelledSchema, OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";

export const purchaseHandlers: EventHandler[] = [
  onEvent(OrderPlacedSchema, async (event, { em }) => {
    const products = [...new Set(event.lines.map((line) => line.productId).filter(Boolean))];
    if (!event.userId || products.length === 0) return;
    await em.execute(
      "insert into purchase (order_id, product_id, user_id) select ?, unnest(?::uuid[]), ? on conflict do nothing",
      [event.orderId, pgArray(products), event.userId],
    );
  }),
  onEvent(OrderCancelledSchema, async (event, { em }) => {
    await em.execute("delete from purchase where order_id = ?", [event.orderId]);
  }),
];
