// An order after checkout: who may see and cancel it (BOLA), cancellation with refund and restock,
// staff's fulfilment moves and the invalid ones, etags, refunds, and the listings.
import test from "ava";
import { randomUUID } from "node:crypto";
import { OrderCancelledSchema, OrderRefundedSchema, OrderStatusChangedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { OrderPaymentStatus, OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { Code, eventOnStream, eventually, failure, guestCart, meshPerFile, paymentOf, placeRequest, sellable, stockOf, userCart, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test);

async function userOrder(m: Mesh, options: { stock?: number; quantity?: number; price?: number } = {}) {
  const sku = await sellable(m, { stock: options.stock ?? 10, price: options.price ?? 1000 });
  const userId = randomUUID();
  await userCart(m, userId, [{ sku, quantity: options.quantity ?? 2 }]);
  const client = await m.orders.user(userId);
  const { order } = await client.placeOrder(placeRequest("", { email: `${userId.slice(0, 8)}@example.com` }));
  return { sku, userId, client, order: order! };
}

test("another customer's order is NOT_FOUND for GetOrder and CancelOrder, and stays as it was", async (t) => {
  const m = mesh();
  const { order } = await userOrder(m);
  const stranger = await m.orders.user(randomUUID());
  t.is((await failure(stranger.getOrder({ orderId: order.id }))).code, Code.NotFound);
  t.is((await failure(stranger.cancelOrder({ orderId: order.id }))).code, Code.NotFound);
  t.is((await failure(m.orders.guest("not-the-token").getOrder({ orderId: order.id }))).code, Code.NotFound);
  t.is((await failure(m.orders.guest().getOrder({ orderId: order.id }))).code, Code.NotFound);
  t.is((await m.orders.admin.getOrder({ orderId: order.id })).order!.status, OrderStatus.CONFIRMED);
});

test("a guest's order is reachable with its cart's token only", async (t) => {
  const m = mesh();
  const sku = await sellable(m);
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId));
  const other = await guestCart(m, [{ sku, quantity: 1 }]);
  t.is((await failure(m.orders.guest(other.token).getOrder({ orderId: order!.id }))).code, Code.NotFound);
  t.is((await m.orders.guest(token).getOrder({ orderId: order!.id })).order!.id, order!.id);
});

test("a customer cancels their confirmed order: refunded in full, restocked, CANCELLED with OrderCancelled", async (t) => {
  const m = mesh();
  const since = new Date();
  const { sku, client, order } = await userOrder(m, { stock: 10, quantity: 3 });
  t.deepEqual(await stockOf(m, sku), { onHand: 7, reserved: 0 });
  const { order: cancelled } = await client.cancelOrder({ orderId: order.id, reason: "ordered by mistake" });
  t.is(cancelled!.status, OrderStatus.CANCELLED);
  t.is(cancelled!.paymentStatus, OrderPaymentStatus.REFUNDED);
  t.is(cancelled!.refunded!.amountMinor, order.totals!.total!.amountMinor);
  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 }, "the units are back on hand");
  const payment = await paymentOf(m, order.id);
  t.is(payment!.state, PaymentState.REFUNDED);
  t.is(payment!.refunded!.amountMinor, order.totals!.total!.amountMinor);
  const last = cancelled!.history.at(-1)!;
  t.is(last.actor, "customer");
  t.is(last.note, "ordered by mistake");
  const { event } = await eventOnStream("BAZAAR_ORDER", "bazaar.order.order_cancelled", OrderCancelledSchema, since, (e) => e.orderId === order.id);
  t.is(event.reason, "ordered by mistake");

  // Again: unchanged, nothing refunded twice.
  const { order: again } = await client.cancelOrder({ orderId: order.id });
  t.is(again!.status, OrderStatus.CANCELLED);
  t.is((await paymentOf(m, order.id))!.refunded!.amountMinor, order.totals!.total!.amountMinor);
  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 });
});

test("before anything ships a customer (or a guest with the cart token) cancels a FULFILLING order: shipment cancelled, restocked, refunded; once SHIPPED nobody can", async (t) => {
  const m = mesh();
  const { client, order, sku } = await userOrder(m);
  await m.orders.admin.updateOrderStatus({ orderId: order.id, status: OrderStatus.FULFILLING });
  const { order: cancelled } = await client.cancelOrder({ orderId: order.id, reason: "changed my mind" });
  t.is(cancelled!.status, OrderStatus.CANCELLED);
  t.is(cancelled!.history.at(-1)!.actor, "customer");
  t.is(cancelled!.paymentStatus, OrderPaymentStatus.REFUNDED);
  t.is((await paymentOf(m, order.id))!.refunded!.amountMinor, order.totals!.total!.amountMinor);
  t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 });
  // Shipping cancels the parcels that have not left (OrderCancelled).
  await eventually("the shipment cancelled", async () => {
    const rows = await m.sql<{ status: string }>("shipping", "select status from shipment where order_id = $1", [order.id]);
    return rows.length > 0 && rows.every((row) => row.status === "cancelled");
  });

  const guestSku = await sellable(m, { stock: 5 });
  const cart = await guestCart(m, [{ sku: guestSku, quantity: 1 }]);
  const { order: guestOrder } = await m.orders.guest(cart.token).placeOrder(placeRequest(cart.cartId));
  await m.orders.admin.updateOrderStatus({ orderId: guestOrder!.id, status: OrderStatus.FULFILLING });
  t.is((await failure(m.orders.guest().cancelOrder({ orderId: guestOrder!.id }))).code, Code.NotFound, "not without the cart token");
  t.is((await m.orders.guest(cart.token).cancelOrder({ orderId: guestOrder!.id })).order!.status, OrderStatus.CANCELLED);

  const shipped = await userOrder(m);
  await m.orders.admin.updateOrderStatus({ orderId: shipped.order.id, status: OrderStatus.FULFILLING });
  await m.orders.admin.updateOrderStatus({ orderId: shipped.order.id, status: OrderStatus.SHIPPED });
  const refused = await failure(shipped.client.cancelOrder({ orderId: shipped.order.id }));
  t.is(refused.code, Code.FailedPrecondition);
  t.is(refused.reason, "ORDER_NOT_CANCELLABLE");
  const late = await failure(m.orders.admin.cancelOrder({ orderId: shipped.order.id }));
  t.is(late.reason, "ORDER_NOT_CANCELLABLE");
});

test("staff move an order CONFIRMED → FULFILLING → SHIPPED → DELIVERED, each with history and OrderStatusChanged", async (t) => {
  const m = mesh();
  const since = new Date();
  const { order } = await userOrder(m);
  let current = order;
  for (const [status, note] of [
    [OrderStatus.FULFILLING, ""],
    [OrderStatus.SHIPPED, "tracking 1Z999"],
    [OrderStatus.DELIVERED, ""],
  ] as const) {
    current = (await m.orders.admin.updateOrderStatus({ orderId: order.id, status, note, etag: current.etag })).order!;
    t.is(current.status, status);
  }
  t.deepEqual(
    current.history.map((h) => h.status),
    [OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.FULFILLING, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
  );
  t.is(current.history[3]!.note, "tracking 1Z999");
  const { event } = await eventOnStream("BAZAAR_ORDER", "bazaar.order.order_status_changed", OrderStatusChangedSchema, since, (e) => e.orderId === order.id && e.toStatus === "SHIPPED");
  t.is(event.fromStatus, "FULFILLING");
  t.is(event.note, "tracking 1Z999");
  // Setting the status it has returns it unchanged.
  const same = (await m.orders.admin.updateOrderStatus({ orderId: order.id, status: OrderStatus.DELIVERED })).order!;
  t.is(same.etag, current.etag);
});

test("invalid moves are INVALID_TRANSITION, a stale etag ABORTED, customers PERMISSION_DENIED", async (t) => {
  const m = mesh();
  const { client, order } = await userOrder(m);
  const skip = await failure(m.orders.admin.updateOrderStatus({ orderId: order.id, status: OrderStatus.DELIVERED }));
  t.is(skip.code, Code.FailedPrecondition);
  t.is(skip.reason, "INVALID_TRANSITION");
  const notFulfilment = await failure(m.orders.admin.updateOrderStatus({ orderId: order.id, status: OrderStatus.CANCELLED }));
  t.is(notFulfilment.code, Code.InvalidArgument);
  t.deepEqual(notFulfilment.fields, ["status"]);
  const stale = await failure(m.orders.admin.updateOrderStatus({ orderId: order.id, status: OrderStatus.FULFILLING, etag: '"1"' }));
  t.is(stale.code, Code.Aborted);
  t.is((await failure(client.updateOrderStatus({ orderId: order.id, status: OrderStatus.FULFILLING }))).code, Code.PermissionDenied);
  t.is((await m.orders.admin.getOrder({ orderId: order.id })).order!.status, OrderStatus.CONFIRMED, "nothing moved");

  const rejected = await failure(
    m.orders.admin.updateOrderStatus({ orderId: (await userOrder(m)).order.id, status: OrderStatus.SHIPPED }),
  );
  t.is(rejected.reason, "INVALID_TRANSITION");
});

test("staff refund part then the rest: PARTIALLY_REFUNDED, then REFUNDED; a repeated refund id changes nothing; above the rest is refused", async (t) => {
  const m = mesh();
  const since = new Date();
  const { order } = await userOrder(m, { price: 2000, quantity: 1 });
  const total = order.totals!.total!.amountMinor;
  const part = { orderId: order.id, refundId: "r-1", amount: { amountMinor: 500n, currencyCode: "USD" }, reason: "scratched" };
  const first = (await m.orders.admin.refundOrder(part)).order!;
  t.is(first.status, OrderStatus.CONFIRMED);
  t.is(first.paymentStatus, OrderPaymentStatus.PARTIALLY_REFUNDED);
  t.is(first.refunded!.amountMinor, 500n);
  const repeat = (await m.orders.admin.refundOrder(part)).order!;
  t.is(repeat.refunded!.amountMinor, 500n);
  const tooMuch = await failure(m.orders.admin.refundOrder({ ...part, refundId: "r-2", amount: { amountMinor: total, currencyCode: "USD" } }));
  t.is(tooMuch.code, Code.FailedPrecondition);
  t.is(tooMuch.reason, "REFUND_EXCEEDS_CAPTURED");
  const rest = (await m.orders.admin.refundOrder({ ...part, refundId: "r-3", amount: { amountMinor: total - 500n, currencyCode: "USD" } })).order!;
  t.is(rest.status, OrderStatus.REFUNDED);
  t.is(rest.paymentStatus, OrderPaymentStatus.REFUNDED);
  t.is(rest.refunded!.amountMinor, total);
  const { event } = await eventOnStream("BAZAAR_ORDER", "bazaar.order.order_refunded", OrderRefundedSchema, since, (e) => e.orderId === order.id && e.full);
  t.is(event.amount!.amountMinor, total - 500n);
  t.is(event.totalRefunded!.amountMinor, total);
  t.is(event.refundId, "r-3", "the refund's id travels with it (a return's refund is told by the return)");

  const badCurrency = await failure(m.orders.admin.refundOrder({ ...part, refundId: "r-4", amount: { amountMinor: 1n, currencyCode: "EUR" } }));
  t.is(badCurrency.code, Code.InvalidArgument);
  t.deepEqual(badCurrency.fields, ["amount.currency_code"]);
  const nonPositive = await failure(m.orders.admin.refundOrder({ ...part, refundId: "r-5", amount: { amountMinor: 0n, currencyCode: "USD" } }));
  t.deepEqual(nonPositive.fields, ["amount.amount_minor"]);
});

test("ListMyOrders pages newest first with keyset tokens; another user's token is refused", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 50 });
  const userId = randomUUID();
  const client = await m.orders.user(userId);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    await userCart(m, userId, [{ sku, quantity: 1 }]);
    ids.push((await client.placeOrder(placeRequest("", { email: "pager@example.com" }))).order!.id);
  }
  const seen: string[] = [];
  let pageToken = "";
  do {
    const page = await client.listMyOrders({ pageSize: 2, pageToken });
    seen.push(...page.orders.map((o) => o.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  t.deepEqual(seen, [...ids].reverse());
  const firstPage = await client.listMyOrders({ pageSize: 2 });
  const other = await m.orders.user(randomUUID());
  const foreign = await failure(other.listMyOrders({ pageSize: 2, pageToken: firstPage.nextPageToken }));
  t.is(foreign.code, Code.InvalidArgument);
  t.deepEqual(foreign.fields, ["page_token"]);
  t.deepEqual((await failure(client.listMyOrders({ pageSize: 101 }))).fields, ["page_size"]);
  t.is((await failure(m.orders.guest().listMyOrders({}))).code, Code.Unauthenticated);
});

test("ListOrders finds orders by id, email, SKU, customer and status, for admins only", async (t) => {
  const m = mesh();
  const a = await userOrder(m);
  const b = await userOrder(m);
  await m.orders.admin.updateOrderStatus({ orderId: b.order.id, status: OrderStatus.FULFILLING });
  const ids = async (request: Parameters<typeof m.orders.admin.listOrders>[0]) => (await m.orders.admin.listOrders(request)).orders.map((o) => o.id);
  t.deepEqual(await ids({ query: a.order.id }), [a.order.id]);
  t.deepEqual(await ids({ query: a.order.email.toUpperCase() }), [a.order.id]);
  t.deepEqual(await ids({ query: b.sku }), [b.order.id]);
  t.deepEqual(await ids({ userId: a.userId }), [a.order.id]);
  const fulfilling = await ids({ statuses: [OrderStatus.FULFILLING] });
  t.true(fulfilling.includes(b.order.id));
  t.false(fulfilling.includes(a.order.id));
  const hourFromNow = BigInt(Math.floor(Date.now() / 1000) + 3600);
  t.deepEqual(await ids({ query: b.sku, createdAfter: { seconds: hourFromNow - 7200n, nanos: 0 }, createdBefore: { seconds: hourFromNow, nanos: 0 } }), [b.order.id]);
  t.deepEqual(await ids({ query: b.sku, createdAfter: { seconds: hourFromNow, nanos: 0 } }), []);
  t.is((await failure(a.client.listOrders({}))).code, Code.PermissionDenied);
  t.deepEqual((await failure(m.orders.admin.listOrders({ pageSize: 501 }))).fields, ["page_size"]);
});
