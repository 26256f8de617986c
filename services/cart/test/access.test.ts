// Who reaches which cart: a guest only with its token, a user only their own, a guest token never a
// user's cart — everyone else gets not_found, so cart ids are not confirmed.
import test from "ava";
import { CartState } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { Code, failure, meshPerFile, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);

test("a guest cart answers only to its token: none or a wrong one is not_found, for reads and writes", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const created = await m.guest().createCart({});
  t.is(created.cartToken.length, 43, "32 random bytes, base64url");
  t.is(created.cart?.state, CartState.ACTIVE);
  t.is(created.cart?.currencyCode, "USD");
  t.is(created.cart?.userId, "");
  const cartId = created.cart!.id;

  const added = await m.guest(created.cartToken).addCartItem({ cartId, sku, quantity: 2 });
  t.is(added.cart?.itemCount, 2);

  const other = await m.guest().createCart({});
  // One character off (never the same one: a token ends in "A" one time in sixteen).
  const tampered = created.cartToken.slice(0, -1) + (created.cartToken.endsWith("A") ? "B" : "A");
  for (const client of [m.guest(), m.guest(other.cartToken), m.guest(tampered), await m.user()]) {
    t.is((await failure(client.getCart({ cartId }))).code, Code.NotFound);
    t.is((await failure(client.addCartItem({ cartId, sku, quantity: 1 }))).code, Code.NotFound);
    t.is((await failure(client.clearCart({ cartId }))).code, Code.NotFound);
  }
  t.is((await m.guest(created.cartToken).getCart({ cartId })).cart?.itemCount, 2, "nothing changed");
  // The token is never handed out again.
  t.is((await m.guest(created.cartToken).getCart({ cartId })).cart?.id, cartId);
});

test("user B can neither read nor change user A's cart (not_found), and a guest token does not open a user cart", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const alice = await m.user();
  const bob = await m.user();
  const { cart } = await alice.addCartItem({ sku, quantity: 1 });
  t.is(cart?.userId, alice.userId);
  const cartId = cart!.id;

  const guestCart = await m.guest().createCart({});
  for (const [who, client] of [["bob", bob], ["a guest with a token", m.guest(guestCart.cartToken)], ["anonymous", m.guest()]] as const) {
    t.is((await failure(client.getCart({ cartId }))).code, Code.NotFound, `${who} cannot read it`);
    t.is((await failure(client.addCartItem({ cartId, sku, quantity: 5 }))).code, Code.NotFound, `${who} cannot add to it`);
    t.is((await failure(client.updateCartItem({ cartId, sku, quantity: 0 }))).code, Code.NotFound, `${who} cannot update it`);
    t.is((await failure(client.removeCartItem({ cartId, sku }))).code, Code.NotFound, `${who} cannot remove from it`);
    t.is((await failure(client.setCartShipping({ cartId, shipping: { countryCode: "US", shippingOptionId: "standard" } }))).code, Code.NotFound);
  }
  t.is((await alice.getCart({})).cart?.lines[0]?.quantity, 1, "Alice's cart is unchanged");
  t.is((await m.admin.getCart({ cartId })).cart?.id, cartId, "staff may read any cart");
  // Bob's own "active cart" is a different one.
  t.is((await failure(bob.getCart({}))).code, Code.NotFound);
  const bobs = await bob.addCartItem({ sku, quantity: 1 });
  t.not(bobs.cart?.id, cartId);
});

test("an empty cart_id needs a signed-in user; a malformed id is invalid_argument", async (t) => {
  const m = mesh();
  const anonymous = await failure(m.guest().getCart({}));
  t.is(anonymous.code, Code.InvalidArgument);
  t.deepEqual(anonymous.fields, ["cart_id"]);
  const malformed = await failure((await m.user()).getCart({ cartId: "not-a-uuid" }));
  t.is(malformed.code, Code.InvalidArgument);
  t.deepEqual(malformed.fields, ["cart_id"]);
});

test("a signed-in user's CreateCart returns their one active cart; a currency the shop does not sell is invalid_argument", async (t) => {
  const m = mesh();
  const user = await m.user();
  const first = await user.createCart({});
  const again = await user.createCart({});
  t.is(again.cart?.id, first.cart?.id);
  t.is(first.cartToken, "", "no token for a user cart");
  const euro = await user.createCart({ currencyCode: "EUR" });
  t.is(euro.cart?.id, first.cart?.id);
  t.is(euro.cart?.currencyCode, "EUR");
  const bad = await failure(m.guest().createCart({ currencyCode: "JPY" }));
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields, ["currency_code"]);
  const rows = await m.sql<{ count: string }>("select count(*) from cart where user_id = $1 and state = 'active'", [user.userId]);
  t.is(rows[0]?.count, "1");
});
