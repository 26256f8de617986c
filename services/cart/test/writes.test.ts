// Writes: validated against the catalog and inventory, limited (1–999 per line, 100 lines), applied
// under the cart's row lock so concurrent changes never lose one another.
import test from "ava";
import { CartLineStatus } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { Code, failure, meshPerFile, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);

test("adding more than is available is failed_precondition INSUFFICIENT_STOCK naming the availability, and changes nothing", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { stock: 5 });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 3 });
  const before = cart!.updateTime;
  const refused = await failure(user.addCartItem({ sku, quantity: 3 }));
  t.is(refused.code, Code.FailedPrecondition);
  t.is(refused.reason, "INSUFFICIENT_STOCK");
  t.regex(refused.message, /only 5 of/);
  const after = (await user.getCart({})).cart!;
  t.is(after.lines[0]?.quantity, 3);
  t.deepEqual(after.updateTime, before);
  // UpdateCartItem checks the same way; up to the availability is fine.
  t.is((await failure(user.updateCartItem({ sku, quantity: 6 }))).reason, "INSUFFICIENT_STOCK");
  t.is((await user.updateCartItem({ sku, quantity: 5 })).cart?.lines[0]?.quantity, 5);
});

test("a quantity of 0 or 1000 to AddCartItem, 1000 to UpdateCartItem, or a line beyond 999 is invalid_argument naming quantity", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { stock: 5000 });
  const user = await m.user();
  for (const quantity of [0, 1000, -1]) {
    const bad = await failure(user.addCartItem({ sku, quantity }));
    t.is(bad.code, Code.InvalidArgument, `AddCartItem ${quantity}`);
    t.deepEqual(bad.fields, ["quantity"]);
  }
  t.deepEqual((await failure(user.updateCartItem({ sku, quantity: 1000 }))).fields, ["quantity"]);
  await user.addCartItem({ sku, quantity: 998 });
  const over = await failure(user.addCartItem({ sku, quantity: 2 }));
  t.is(over.code, Code.InvalidArgument);
  t.deepEqual(over.fields, ["quantity"]);
  t.is((await user.getCart({})).cart?.lines[0]?.quantity, 998);
  const malformed = await failure(user.addCartItem({ sku: "lower case", quantity: 1 }));
  t.deepEqual(malformed.fields, ["sku"]);
});

test("UpdateCartItem sets a quantity and 0 removes the line; RemoveCartItem and ClearCart of absent lines change nothing", async (t) => {
  const m = mesh();
  const a = await sellable(m);
  const b = await sellable(m);
  const user = await m.user();
  await user.updateCartItem({ sku: a.sku, quantity: 4 });
  await user.addCartItem({ sku: b.sku, quantity: 1 });
  t.deepEqual((await user.getCart({})).cart?.lines.map((l) => [l.sku, l.quantity]), [
    [a.sku, 4],
    [b.sku, 1],
  ]);
  t.deepEqual((await user.updateCartItem({ sku: a.sku, quantity: 0 })).cart?.lines.map((l) => l.sku), [b.sku]);
  t.deepEqual((await user.removeCartItem({ sku: a.sku })).cart?.lines.map((l) => l.sku), [b.sku]);
  t.deepEqual((await user.removeCartItem({ sku: b.sku })).cart?.lines, []);
  await user.addCartItem({ sku: a.sku, quantity: 2 });
  const cleared = (await user.clearCart({})).cart!;
  t.is(cleared.lines.length, 0);
  t.is(cleared.itemCount, 0);
  t.false(cleared.checkoutReady);
});

test("a 101st line is resource_exhausted CART_FULL; more of an existing line still fits", async (t) => {
  const m = mesh();
  const products = await Promise.all(Array.from({ length: 101 }, () => sellable(m, { stock: 10 })));
  const user = await m.user();
  const { cart } = await user.createCart({});
  // Fill 100 lines straight in the database (the RPC path is what is under test for the 101st).
  await m.sql("insert into cart_line (cart_id, sku, quantity) select $1, unnest($2::text[]), 1", [cart!.id, products.slice(0, 100).map((p) => p.sku)]);
  const full = await failure(user.addCartItem({ sku: products[100]!.sku, quantity: 1 }));
  t.is(full.code, Code.ResourceExhausted);
  t.is(full.reason, "CART_FULL");
  const more = await user.addCartItem({ sku: products[0]!.sku, quantity: 1 });
  t.is(more.cart?.lines.length, 100);
  t.is(more.cart?.lines.find((l) => l.sku === products[0]!.sku)?.quantity, 2);
  t.true(more.cart!.lines.every((l) => l.status === CartLineStatus.OK), "100 lines priced in one read");
});

test("20 concurrent AddCartItem calls of one unit on one cart leave a quantity of 20", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { stock: 100 });
  const created = await m.guest().createCart({});
  const guest = m.guest(created.cartToken);
  const cartId = created.cart!.id;
  await Promise.all(Array.from({ length: 20 }, () => guest.addCartItem({ cartId, sku, quantity: 1 })));
  t.is((await guest.getCart({ cartId })).cart?.lines[0]?.quantity, 20);

  // A signed-in user's first adds race to create their active cart: still one cart, nothing lost.
  const user = await m.user();
  const carts = await Promise.all(Array.from({ length: 10 }, () => user.addCartItem({ sku, quantity: 1 })));
  t.is(new Set(carts.map((c) => c.cart?.id)).size, 1);
  t.is((await user.getCart({})).cart?.lines[0]?.quantity, 10);
});

test("an expired cart refuses writes with failed_precondition CART_NOT_ACTIVE", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const created = await m.guest().createCart({});
  const guest = m.guest(created.cartToken);
  const cartId = created.cart!.id;
  await guest.addCartItem({ cartId, sku, quantity: 1 });
  await m.sql("update cart set state = 'expired' where id = $1", [cartId]);
  for (const call of [
    guest.addCartItem({ cartId, sku, quantity: 1 }),
    guest.updateCartItem({ cartId, sku, quantity: 2 }),
    guest.removeCartItem({ cartId, sku }),
    guest.clearCart({ cartId }),
    guest.setCartShipping({ cartId, shipping: { countryCode: "US", shippingOptionId: "standard" } }),
  ]) {
    const refused = await failure(call);
    t.is(refused.code, Code.FailedPrecondition);
    t.is(refused.reason, "CART_NOT_ACTIVE");
  }
  t.is((await guest.getCart({ cartId })).cart?.lines[0]?.quantity, 1, "still readable, unchanged");
});
