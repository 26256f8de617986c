// Verified purchases follow the order service: OrderPlaced records which products a signed-in buyer
// bought, OrderCancelled takes that order's back — in the same transaction as the consumer's inbox
// row, so a redelivery applies once. Guest orders (no user) verify nothing.
import { onEvent, typedQueries, type EventHandler } from "@bazaar/platform";
import { OrderCancelledSchema, OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { catalogEntities } from "../entities.ts";

export const purchaseHandlers: EventHandler[] = [
  onEvent(OrderPlacedSchema, async (event, { em }) => {
    const products = [...new Set(event.lines.map((line) => line.productId).filter(Boolean))];
    if (!event.userId || products.length === 0) return;
    await typedQueries(em, catalogEntities)
      .insertInto("purchase")
      .values(products.map((productId) => ({ order_id: event.orderId, product_id: productId, user_id: event.userId })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }),
  onEvent(OrderCancelledSchema, async (event, { em }) => {
    await typedQueries(em, catalogEntities).deleteFrom("purchase").where("order_id", "=", event.orderId).execute();
  }),
];
