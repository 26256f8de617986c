// PrepareCheckout and CompleteCart, the order service's two calls: services only, ownership proven by
// user id or guest token, the exact failure reasons of the contract, and an idempotent completion.
import { randomUUID } from "node:crypto";
import test from "ava";
import { CartState } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { Code, failure, meshPerFile, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);
const toCalifornia = { countryCode: "US", region: "CA", postalCode: "94103", shippingOptionId: "express" };

test("PrepareCheckout prices the cart for the given destination and option, with shipping known; only services may call it", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 2000 } });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 2 });

  const prepared = await m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: toCalifornia });
  t.is(prepared.shippingOption?.id, "express");
  t.is(prepared.shippingOption?.price?.amountMinor, 1499n);
  const totals = prepared.cart!.totals!;
  t.true(totals.shippingKnown);
  t.is(totals.subtotal?.amountMinor, 4000n);
  t.is(totals.shipping?.amountMinor, 1499n);
  t.is(totals.tax?.amountMinor, ((4000n + 1499n) * 725n + 5000n) / 10000n);
  t.is(totals.total?.amountMinor, 4000n + 1499n + totals.tax!.amountMinor);
  t.like(prepared.cart?.shipping, toCalifornia);
  t.is((await user.getCart({})).cart?.shipping, undefined, "nothing stored");

  for (const client of [user, m.admin, m.guest()]) {
    t.is((await failure(client.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: toCalifornia }))).code, Code.PermissionDenied);
  }
});

test("PrepareCheckout checks the owner: another user id, a wrong or missing guest token is not_found; the guest's token passes", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 1 });
  t.is((await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: randomUUID(), shipping: toCalifornia }))).code, Code.NotFound);

  const created = await m.guest().createCart({});
  const guestCart = created.cart!.id;
  await m.guest(created.cartToken).addCartItem({ cartId: guestCart, sku, quantity: 1 });
  const other = await m.guest().createCart({});
  t.is((await failure(m.service.prepareCheckout({ cartId: guestCart, cartToken: other.cartToken, shipping: toCalifornia }))).code, Code.NotFound);
  t.is((await failure(m.service.prepareCheckout({ cartId: guestCart, userId: user.userId, shipping: toCalifornia }))).code, Code.NotFound);
  t.is((await failure(m.service.prepareCheckout({ cartId: cart!.id, cartToken: created.cartToken, shipping: toCalifornia }))).code, Code.NotFound, "a guest token does not open a user cart");
  const missing = await failure(m.service.prepareCheckout({ cartId: guestCart, shipping: toCalifornia }));
  t.is(missing.code, Code.InvalidArgument);
  t.deepEqual(missing.fields, ["cart_token"]);
  const ok = await m.service.prepareCheckout({ cartId: guestCart, cartToken: created.cartToken, shipping: toCalifornia });
  t.is(ok.cart?.id, guestCart);
});

test("PrepareCheckout refuses an empty cart (CART_EMPTY), a flagged line (LINE_UNAVAILABLE naming its SKU) and an unknown option (invalid_argument)", async (t) => {
  const m = mesh();
  const fine = await sellable(m);
  const doomed = await sellable(m);
  const user = await m.user();
  const { cart } = await user.createCart({});
  const empty = await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: toCalifornia }));
  t.is(empty.code, Code.FailedPrecondition);
  t.is(empty.reason, "CART_EMPTY");

  await user.addCartItem({ sku: fine.sku, quantity: 1 });
  await user.addCartItem({ sku: doomed.sku, quantity: 1 });
  const teleport = await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: { ...toCalifornia, shippingOptionId: "teleport" } }));
  t.is(teleport.code, Code.InvalidArgument);
  t.deepEqual(teleport.fields, ["shipping.shipping_option_id"]);

  await m.catalogAdmin.archiveProduct({ id: doomed.product.id });
  const flagged = await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: toCalifornia }));
  t.is(flagged.code, Code.FailedPrecondition);
  t.is(flagged.reason, "LINE_UNAVAILABLE");
  t.true(flagged.message.includes(doomed.sku));
});

test("CompleteCart checks the cart out once: a repeat with the same order returns it unchanged, another order is refused, and the user gets a new active cart", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 1 });
  const orderId = randomUUID();
  t.is((await failure(user.completeCart({ cartId: cart!.id, orderId }))).code, Code.PermissionDenied);

  const done = await m.service.completeCart({ cartId: cart!.id, orderId });
  t.is(done.cart?.state, CartState.CHECKED_OUT);
  t.is(done.cart?.orderId, orderId);
  const repeat = await m.service.completeCart({ cartId: cart!.id, orderId });
  t.is(repeat.cart?.state, CartState.CHECKED_OUT);
  t.deepEqual(repeat.cart?.updateTime, done.cart?.updateTime);
  const other = await failure(m.service.completeCart({ cartId: cart!.id, orderId: randomUUID() }));
  t.is(other.code, Code.FailedPrecondition);

  const prepared = await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: toCalifornia }));
  t.is(prepared.reason, "CART_NOT_ACTIVE");
  t.is((await failure(user.getCart({}))).code, Code.NotFound, "no active cart until the next one is made");
  const next = await user.addCartItem({ sku, quantity: 1 });
  t.not(next.cart?.id, cart!.id);
  t.is(next.cart?.state, CartState.ACTIVE);
  t.is((await user.getCart({ cartId: cart!.id })).cart?.state, CartState.CHECKED_OUT, "the old cart stays readable");
});

test("CompleteCart refuses a merged guest cart", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const created = await m.guest().createCart({});
  await m.guest(created.cartToken).addCartItem({ cartId: created.cart!.id, sku, quantity: 1 });
  await (await m.user(undefined, created.cartToken)).mergeCart({ guestCartId: created.cart!.id });
  const refused = await failure(m.service.completeCart({ cartId: created.cart!.id, orderId: randomUUID() }));
  t.is(refused.code, Code.FailedPrecondition);
  t.is(refused.reason, "CART_MERGED");
});
