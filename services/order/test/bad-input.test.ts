// Bad PlaceOrder input gets a clear error naming the offending field (or the cart's reason), and
// creates nothing: no order, no key, no reservation, no payment.
import test from "ava";
import { address, Code, failure, guestCart, meshPerFile, placeRequest, sellable, stockOf, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test);

async function nothingCreated(t: { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void }, m: Mesh, cartId: string, sku?: string) {
  const [orders] = await m.sql<{ n: string }>("order", "select count(*) as n from orders where cart_id = $1", [cartId]);
  t.is(Number(orders!.n), 0, "no order");
  const [keys] = await m.sql<{ n: string }>("order", "select count(*) as n from idempotency_key k join orders o on o.id = k.order_id where o.cart_id = $1", [cartId]);
  t.is(Number(keys!.n), 0, "no key");
  if (sku) t.deepEqual(await stockOf(m, sku), { onHand: 10, reserved: 0 }, "nothing reserved");
}

test("an empty cart fails CART_EMPTY and creates nothing", async (t) => {
  const m = mesh();
  const { cartId, token } = await guestCart(m, []);
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId)));
  t.is(result.code, Code.FailedPrecondition);
  t.is(result.reason, "CART_EMPTY");
  await nothingCreated(t, m, cartId);
});

test("an unknown shipping option is INVALID_ARGUMENT naming shipping_option_id", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingOptionId: "teleport" })));
  t.is(result.code, Code.InvalidArgument);
  t.deepEqual(result.fields, ["shipping_option_id"]);
  await nothingCreated(t, m, cartId, sku);
});

test("malformed address fields are each named under shipping_address", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const result = await failure(
    m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingAddress: address({ postalCode: "x".repeat(21), countryCode: "usa", recipientName: "" }) })),
  );
  t.is(result.code, Code.InvalidArgument);
  t.deepEqual(result.fields.sort(), ["shipping_address.country_code", "shipping_address.postal_code", "shipping_address.recipient_name"]);
  const missing = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingAddress: undefined })));
  t.deepEqual(missing.fields, ["shipping_address"]);
  // PostalAddress has one rule everywhere: identity refuses the unassigned country XX, and so does checkout.
  const unassigned = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingAddress: address({ countryCode: "XX", phone: "+0123456" }) })));
  t.deepEqual(unassigned.fields, ["shipping_address.country_code", "shipping_address.phone"]);
  await nothingCreated(t, m, cartId, sku);
});

test("a guest without an email is INVALID_ARGUMENT naming email", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { email: "" })));
  t.is(result.code, Code.InvalidArgument);
  t.deepEqual(result.fields, ["email"]);
  const malformed = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { email: "not-an-email" })));
  t.deepEqual(malformed.fields, ["email"]);
  await nothingCreated(t, m, cartId, sku);
});

test("a missing or over-long idempotency key is INVALID_ARGUMENT naming idempotency_key", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  for (const idempotencyKey of ["", "k".repeat(256)]) {
    const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { idempotencyKey })));
    t.is(result.code, Code.InvalidArgument);
    t.deepEqual(result.fields, ["idempotency_key"]);
  }
  await nothingCreated(t, m, cartId, sku);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId, { idempotencyKey: "k".repeat(255) }));
  t.truthy(order, "255 characters are fine");
});

test("a malformed payment method is named; a card number is never accepted", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const result = await failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { paymentMethod: "4242424242424242" })));
  t.deepEqual(result.fields, ["payment_method"]);
  await nothingCreated(t, m, cartId, sku);
});

test("a foreign or unknown cart is NOT_FOUND", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { stock: 10 });
  const { cartId } = await guestCart(m, [{ sku, quantity: 1 }]);
  const other = await guestCart(m, []);
  t.is((await failure(m.orders.guest(other.token).placeOrder(placeRequest(cartId)))).code, Code.NotFound);
  t.is((await failure(m.orders.guest().placeOrder(placeRequest(cartId)))).code, Code.NotFound);
  t.is((await failure(m.orders.guest(other.token).placeOrder(placeRequest(crypto.randomUUID())))).code, Code.NotFound);
  await nothingCreated(t, m, cartId, sku);
});
