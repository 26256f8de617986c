// One cart, one order (issue 12): however many PlaceOrder calls a cart gets, with whatever keys and
// however fast, one order is created and charged; the others are told, clearly, which order holds the
// cart. Retried requests (one key) get the stored answer or ABORTED, never a refusal. Ordinary
// situations (no active cart, a dependency of the cart down) are never `internal`.
import test from "ava";
import { ConnectError } from "@connectrpc/connect";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PaymentOperationKind } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { Code, failure, guestCart, meshPerFile, paymentOf, placeRequest, sellable, startMesh, stockOf, userCart, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test);

/** A failed call's code, reason, message and ErrorInfo metadata. */
async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    const info = e.findDetails(ErrorInfoSchema)[0];
    return { code: e.code, reason: info?.reason, message: e.rawMessage, metadata: { ...info?.metadata } };
  }
  return { code: undefined, reason: undefined, message: "succeeded", metadata: {} as Record<string, string> };
}

const ordersOf = (m: Mesh, cartId: string) => m.sql<{ id: string; status: string }>("order", "select id, status from orders where cart_id = $1", [cartId]);

/** Exactly one CONFIRMED order for the cart, one capture, one unit sold; every refusal names that order. */
async function oneOrder(t: import("ava").ExecutionContext, m: Mesh, cartId: string, sku: string, outcomes: PromiseSettledResult<{ order?: { id: string; status: OrderStatus } }>[]) {
  const rows = await ordersOf(m, cartId);
  t.is(rows.length, 1, "one order for the cart");
  const orderId = rows[0]!.id;
  t.is(rows[0]!.status, "CONFIRMED");
  let succeeded = 0;
  for (const outcome of outcomes) {
    if (outcome.status === "fulfilled") {
      succeeded++;
      t.is(outcome.value.order!.id, orderId);
      continue;
    }
    const r = await refusal(Promise.reject(outcome.reason));
    t.is(r.code, Code.FailedPrecondition, r.message);
    t.true(r.reason === "CART_CHECKOUT_IN_PROGRESS" || r.reason === "CART_CHECKED_OUT", `reason ${r.reason}`);
    t.true(r.message.includes(orderId), `the message names the order: ${r.message}`);
    t.is(r.metadata.order_id, orderId);
  }
  t.is(succeeded, 1, "one caller got the order");
  const payment = await paymentOf(m, orderId);
  t.is(payment!.operations.filter((op) => op.kind === PaymentOperationKind.CAPTURE).length, 1, "one capture");
  const [held] = await m.sql<{ n: string }>("payment", "select count(*) as n from payment where captured > 0");
  t.true(Number(held!.n) >= 1);
  await t.notThrowsAsync(async () => {
    const stock = await stockOf(m, sku);
    if (stock.onHand !== 9 || stock.reserved !== 0) throw new Error(`stock ${JSON.stringify(stock)}`);
  }, "one unit sold, nothing reserved");
}

test("a guest cart: 10 concurrent PlaceOrder with 10 keys make one order, one capture, one unit sold", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const client = m.orders.guest(token);
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => client.placeOrder(placeRequest(cartId))));
  await oneOrder(t, m, cartId, sku, outcomes);
});

test("a user's cart: 10 concurrent PlaceOrder with 10 keys make one order, one capture, one unit sold", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const userId = crypto.randomUUID();
  const cartId = await userCart(m, userId, [{ sku, quantity: 1 }]);
  const client = await m.orders.user(userId);
  // Half name the cart, half mean "my active cart".
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => client.placeOrder(placeRequest(i % 2 ? cartId : "", { email: "u@example.com" }))));
  await oneOrder(t, m, cartId, sku, outcomes);
});

test("two clicks 40 ms apart with two keys: one order, the second told the cart is being (or was) checked out by it", async (t) => {
  const m = mesh();
  for (const kind of ["guest", "user"] as const) {
    const sku = await sellable(m, { stock: 10 });
    const userId = crypto.randomUUID();
    const { cartId, client } =
      kind === "guest"
        ? await guestCart(m, [{ sku, quantity: 1 }]).then(({ cartId, token }) => ({ cartId, client: m.orders.guest(token) }))
        : { cartId: await userCart(m, userId, [{ sku, quantity: 1 }]), client: await m.orders.user(userId) };
    const first = client.placeOrder(placeRequest(cartId));
    await new Promise((resolve) => setTimeout(resolve, 40));
    const second = client.placeOrder(placeRequest(cartId));
    await oneOrder(t, m, cartId, sku, await Promise.allSettled([first, second]));
  }
});

test("a click after a finished checkout: CART_CHECKED_OUT naming the order (or NO_ACTIVE_CART for 'my cart'), nothing charged again", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId));
  const again = await refusal(m.orders.guest(token).placeOrder(placeRequest(cartId)));
  t.is(again.code, Code.FailedPrecondition);
  t.is(again.reason, "CART_CHECKED_OUT");
  t.is(again.metadata.order_id, order!.id);
  t.true(again.message.includes(order!.id));

  const userId = crypto.randomUUID();
  const userCartId = await userCart(m, userId, [{ sku, quantity: 1 }]);
  const client = await m.orders.user(userId);
  const { order: mine } = await client.placeOrder(placeRequest("", { email: "u@example.com" }));
  const named = await refusal(client.placeOrder(placeRequest(userCartId, { email: "u@example.com" })));
  t.is(named.reason, "CART_CHECKED_OUT");
  t.is(named.metadata.order_id, mine!.id);
  const unnamed = await refusal(client.placeOrder(placeRequest("", { email: "u@example.com" })));
  t.is(unnamed.code, Code.FailedPrecondition, unnamed.message);
  t.is(unnamed.reason, "NO_ACTIVE_CART");
  t.deepEqual(await stockOf(m, sku), { onHand: 8, reserved: 0 });
});

test("a cart claimed by another buyer's order is NOT_FOUND to a stranger, who learns no order id", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId));
  const { token: otherToken } = await guestCart(m, [{ sku, quantity: 1 }]);
  const stranger = await refusal(m.orders.guest(otherToken).placeOrder(placeRequest(cartId)));
  t.is(stranger.code, Code.NotFound);
  t.false(stranger.message.includes(order!.id));
  t.is(stranger.metadata.order_id, undefined);
});

test("a REJECTED checkout frees the cart: a new attempt with a new key confirms", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const declined = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { paymentMethod: "pm_test_declined" })));
  t.is(declined.reason, "PAYMENT_DECLINED");
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId));
  t.is(order!.status, OrderStatus.CONFIRMED);
  t.deepEqual((await ordersOf(m, cartId)).map((r) => r.status).sort(), ["CONFIRMED", "REJECTED"]);
});

test("the database refuses a second live order for one cart", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId));
  const copy = m.sql(
    "order",
    `insert into orders (id, user_id, email, cart_id, status, currency, subtotal, discount, shipping, tax, total, tax_rate_bps,
       shipping_address, shipping_option_id, payment_method, lease_until)
     select gen_random_uuid(), user_id, email, cart_id, 'PENDING', currency, subtotal, discount, shipping, tax, total, tax_rate_bps,
       shipping_address, shipping_option_id, payment_method, lease_until from orders where id = $1`,
    [order!.id],
  );
  const error = await t.throwsAsync(copy);
  t.regex(error!.message, /orders_one_checkout_per_cart/);
});

test("20 concurrent duplicates of one request, five rounds: every answer is the order or ABORTED, never a refusal", async (t) => {
  const m = mesh();
  for (let round = 0; round < 5; round++) {
    const sku = await sellable(m, { stock: 10 });
    const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
    const request = placeRequest(cartId);
    const client = m.orders.guest(token);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => client.placeOrder(request)));
    const rows = await ordersOf(m, cartId);
    t.is(rows.length, 1);
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") t.is(outcome.value.order!.id, rows[0]!.id);
      else {
        const r = await refusal(Promise.reject(outcome.reason));
        t.is(r.code, Code.Aborted, `round ${round}: ${Code[r.code!]} ${r.message}`);
      }
    }
    // Once it is finished, the same request answers the order.
    const { order } = await client.placeOrder(request);
    t.is(order!.id, rows[0]!.id);
    t.is(order!.status, OrderStatus.CONFIRMED);
  }
});

test("a signed-in user who never had a cart gets FAILED_PRECONDITION NO_ACTIVE_CART, not internal", async (t) => {
  const m = mesh();
  const client = await m.orders.user(crypto.randomUUID());
  const r = await refusal(client.placeOrder(placeRequest("", { email: "u@example.com" })));
  t.is(r.code, Code.FailedPrecondition, r.message);
  t.is(r.reason, "NO_ACTIVE_CART");
});

test("the catalog down behind the cart: UNAVAILABLE naming the catalog, not 'the cart service cannot be reached'", async (t) => {
  const m = await startMesh(t);
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const outage = await m.outage("catalog");
  const r = await refusal(m.orders.guest(token).placeOrder(placeRequest(cartId)));
  t.is(r.code, Code.Unavailable, r.message);
  t.is(r.reason, "CATALOG_UNAVAILABLE");
  t.regex(r.message, /catalog/);
  t.notRegex(r.message, /cart service/);
  t.is((await ordersOf(m, cartId)).length, 0, "nothing created");
  await outage.end();
});
