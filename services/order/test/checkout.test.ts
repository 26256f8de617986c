// PlaceOrder end to end through catalog, inventory, cart and payment: the happy path, each way a
// checkout is rejected and what it leaves behind, and idempotency keys (repeats, races, misuse).
import test from "ava";
import { CartState } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { OrderFailureReason, OrderPaymentStatus, OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { PaymentOperationKind, PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { Code, eventOnStream, failure, guestCart, meshPerFile, paymentOf, placeRequest, sellable, stockOf, userCart } from "./helpers.ts";

const mesh = meshPerFile(test);

test("a guest checkout confirms the order: stock committed, payment captured = total, cart checked out, OrderPlaced on the stream", async (t) => {
  const m = mesh();
  const since = new Date();
  const sku = await sellable(m, { price: 1250, stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 2 }]);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId));
  t.is(order!.status, OrderStatus.CONFIRMED);
  t.is(order!.paymentStatus, OrderPaymentStatus.PAID);
  t.is(order!.lines[0]!.sku, sku);
  t.is(order!.lines[0]!.quantity, 2);
  t.is(order!.totals!.subtotal!.amountMinor, 2500n);
  const total = order!.totals!.total!.amountMinor;
  t.is(order!.captured!.amountMinor, total);
  t.is(order!.email, "buyer@example.com");
  t.deepEqual(
    order!.history.map((h) => h.status),
    [OrderStatus.PENDING, OrderStatus.CONFIRMED],
  );

  t.deepEqual(await stockOf(m, sku), { onHand: 8, reserved: 0 }, "the two units left on-hand stock");
  const paid = await paymentOf(m, order!.id);
  t.is(paid!.state, PaymentState.CAPTURED);
  t.is(paid!.captured!.amountMinor, total);
  const { cart } = await m.carts.guest(token).getCart({ cartId });
  t.is(cart!.state, CartState.CHECKED_OUT);
  t.is(cart!.orderId, order!.id);

  const { event, msgId } = await eventOnStream("BAZAAR_ORDER", "bazaar.order.order_placed", OrderPlacedSchema, since, (e) => e.orderId === order!.id);
  t.is(event.total!.amountMinor, total);
  t.is(event.cartId, cartId);
  t.is(msgId, event.eventId);
  // What the confirmation email shows: the totals' parts, the address, the product's name.
  t.is(event.subtotal!.amountMinor, 2500n);
  t.is(event.shipping!.amountMinor, order!.totals!.shipping!.amountMinor);
  t.is(event.tax!.amountMinor, order!.totals!.tax!.amountMinor);
  t.is(event.shippingAddress?.line1, order!.shippingAddress?.line1);
  t.is(event.lines[0]!.productName, order!.lines[0]!.productName);

  // The guest reads it back with the cart's token.
  const { order: read } = await m.orders.guest(token).getOrder({ orderId: order!.id });
  t.is(read!.status, OrderStatus.CONFIRMED);
});

test("a signed-in user checks out their active cart without naming it", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 5 });
  const userId = crypto.randomUUID();
  const cartId = await userCart(m, userId, [{ sku, quantity: 1 }]);
  const client = await m.orders.user(userId);
  const { order } = await client.placeOrder(placeRequest("", { email: "user@example.com" }));
  t.is(order!.status, OrderStatus.CONFIRMED);
  t.is(order!.cartId, cartId);
  t.is(order!.userId, userId);
  const { orders } = await client.listMyOrders({});
  t.deepEqual(
    orders.map((o) => o.id),
    [order!.id],
  );
});

test("a declined payment rejects the order, releases the stock and leaves the cart as it was", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 3 }]);
  const before = (await m.carts.guest(token).getCart({ cartId })).cart!;
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { paymentMethod: "pm_test_declined" })));
  t.is(result.code, Code.FailedPrecondition);
  t.is(result.reason, "PAYMENT_DECLINED");
  const orderId = /order ([0-9a-f-]{36})/.exec(result.message)?.[1];
  t.truthy(orderId, `the message names the order: ${result.message}`);

  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 });
  const after = (await m.carts.guest(token).getCart({ cartId })).cart!;
  t.is(after.state, CartState.ACTIVE);
  t.deepEqual(
    after.lines.map((l) => [l.sku, l.quantity]),
    before.lines.map((l) => [l.sku, l.quantity]),
  );
  const { order } = await m.orders.admin.getOrder({ orderId: orderId! });
  t.is(order!.status, OrderStatus.REJECTED);
  t.is(order!.failureReason, OrderFailureReason.PAYMENT_DECLINED);
  t.is(order!.captured!.amountMinor, 0n);
});

test("insufficient funds rejects with INSUFFICIENT_FUNDS", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { paymentMethod: "pm_test_insufficient_funds" })));
  t.is(result.reason, "INSUFFICIENT_FUNDS");
  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 });
});

test("out of stock at reservation rejects the order with nothing charged: no payment is authorised", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 5 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 4 }]);
  // Between pricing the cart and reserving, the stock goes elsewhere (a stock count finds 3 fewer).
  m.hooks.set(cartId, {
    beforeReserve: async () => {
      await m.inventoryAdmin.adjustStock({ sku, delta: -3n, reason: MovementReason.COUNT_CORRECTION });
    },
  });
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId)));
  t.is(result.code, Code.FailedPrecondition);
  t.is(result.reason, "OUT_OF_STOCK");
  const orderId = /order ([0-9a-f-]{36})/.exec(result.message)![1]!;
  t.is(await paymentOf(m, orderId), undefined, "the payment service never heard of the order");
  const { order } = await m.orders.admin.getOrder({ orderId });
  t.is(order!.status, OrderStatus.REJECTED);
  t.is(order!.failureReason, OrderFailureReason.OUT_OF_STOCK);
  t.deepEqual(await stockOf(m, sku), { onHand: 2, reserved: 0 });
  t.is((await m.carts.guest(token).getCart({ cartId })).cart!.state, CartState.ACTIVE);
});

test("a payment gateway that cannot be reached is not a decline: UNAVAILABLE naming it, the order stays PENDING with its stock, nothing charged", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 2 }]);
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { paymentMethod: "pm_test_network_error" })));
  t.is(result.code, Code.Unavailable, result.message);
  t.is(result.reason, "PAYMENT_UNAVAILABLE");
  t.regex(result.message, /payment gateway cannot be reached/);
  t.regex(result.message, /retry with the same idempotency key/);
  const orderId = /order ([0-9a-f-]{36})/.exec(result.message)![1]!;
  const { order } = await m.orders.admin.getOrder({ orderId });
  t.is(order!.status, OrderStatus.PENDING, "left for the recovery driver (given up only after the reservation's ttl)");
  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 2 });
  t.is((await paymentOf(m, orderId))?.captured?.amountMinor ?? 0n, 0n);
});

test("the same key four times gives one order and one authorisation", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const request = placeRequest(cartId);
  const client = m.orders.guest(token);
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push((await client.placeOrder(request)).order!);
  t.is(new Set(answers.map((o) => o.id)).size, 1);
  const payment = await paymentOf(m, answers[0]!.id);
  t.is(payment!.operations.filter((op) => op.kind === PaymentOperationKind.AUTHORIZE).length, 1);
  const [row] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where cart_id = $1", [cartId]);
  t.is(Number(row!.n), 1);
  t.deepEqual(await stockOf(m, sku), { onHand: 9, reserved: 0 });
});

test("a rejected checkout's key answers the same error again, and creates nothing new", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const request = placeRequest(cartId, { paymentMethod: "pm_test_declined" });
  const first = await failure(m.orders.guest(token).placeOrder(request));
  const second = await failure(m.orders.guest(token).placeOrder(request));
  t.deepEqual(second, first);
  const [row] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where cart_id = $1", [cartId]);
  t.is(Number(row!.n), 1);
});

test("20 concurrent requests with one key: one order; the others get that order or ABORTED", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 50 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const request = placeRequest(cartId);
  const client = m.orders.guest(token);
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.placeOrder(request)));
  const ids = new Set<string>();
  for (const result of results) {
    if (result.status === "fulfilled") ids.add(result.value.order!.id);
    else t.is((await failure(Promise.reject(result.reason))).code, Code.Aborted, String(result.reason));
  }
  t.true(ids.size <= 1);
  const rows = await m.sql<{ id: string; status: string }>("order", "select id, status from orders where cart_id = $1", [cartId]);
  t.is(rows.length, 1);
  if (ids.size === 1) t.is([...ids][0], rows[0]!.id);
  t.deepEqual(await stockOf(m, sku), { onHand: 49, reserved: 0 });
  const payment = await paymentOf(m, rows[0]!.id);
  t.is(payment!.operations.filter((op) => op.kind === PaymentOperationKind.AUTHORIZE).length, 1);
});

test("the same key with a different request is INVALID_ARGUMENT naming idempotency_key", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const request = placeRequest(cartId);
  await m.orders.guest(token).placeOrder(request);
  const result = await failure(m.orders.guest(token).placeOrder({ ...request, shippingOptionId: "express" }));
  t.is(result.code, Code.InvalidArgument);
  t.deepEqual(result.fields, ["idempotency_key"]);
});

test("an expected total that differs fails TOTAL_MISMATCH and stores nothing, so the key stays usable", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const request = placeRequest(cartId, { expectedTotal: { amountMinor: 1n, currencyCode: "USD" } });
  const result = await failure(m.orders.guest(token).placeOrder(request));
  t.is(result.reason, "TOTAL_MISMATCH");
  const [row] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where cart_id = $1", [cartId]);
  t.is(Number(row!.n), 0);
  const { order } = await m.orders.guest(token).placeOrder({ ...request, expectedTotal: undefined });
  t.is(order!.status, OrderStatus.CONFIRMED);
});
