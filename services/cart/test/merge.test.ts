// MergeCart: a guest cart folded into the signed-in user's active cart — quantities summed and capped
// by availability and the per-line limit, adjustments reported, the guest cart MERGED, repeats harmless.
import test from "ava";
import { CartState } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { Code, failure, meshPerFile, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);

test("merge sums quantities capped by availability and 999, marks the guest cart MERGED, and a repeat changes nothing", async (t) => {
  const m = mesh();
  const plenty = await sellable(m, { stock: 5000 });
  const scarce = await sellable(m, { stock: 4 });
  const fresh = await sellable(m, { stock: 10 });
  const user = await m.user();
  await user.addCartItem({ sku: plenty.sku, quantity: 600 });
  await user.addCartItem({ sku: scarce.sku, quantity: 2 });

  const created = await m.guest().createCart({});
  const guestId = created.cart!.id;
  const guest = m.guest(created.cartToken);
  await guest.addCartItem({ cartId: guestId, sku: plenty.sku, quantity: 600 });
  await guest.addCartItem({ cartId: guestId, sku: scarce.sku, quantity: 3 });
  await guest.addCartItem({ cartId: guestId, sku: fresh.sku, quantity: 2 });

  const merging = m.guest(created.cartToken);
  // Signed in, and sending the guest cart's token.
  const both = await m.user(user.userId, created.cartToken);
  const merged = await both.mergeCart({ guestCartId: guestId });
  t.deepEqual(merged.cart?.lines.map((l) => [l.sku, l.quantity]), [
    [plenty.sku, 999],
    [scarce.sku, 4],
    [fresh.sku, 2],
  ]);
  t.deepEqual(merged.adjustments.map((a) => [a.sku, a.requested, a.merged, a.reason]), [
    [plenty.sku, 1200, 999, "per-line limit"],
    [scarce.sku, 5, 4, "capped by availability"],
  ]);
  t.is((await merging.getCart({ cartId: guestId })).cart?.state, CartState.MERGED);

  const again = await both.mergeCart({ guestCartId: guestId });
  t.is(again.cart?.id, merged.cart?.id);
  t.deepEqual(again.cart?.lines.map((l) => [l.sku, l.quantity]), [
    [plenty.sku, 999],
    [scarce.sku, 4],
    [fresh.sku, 2],
  ]);
  t.deepEqual(again.adjustments, []);
  t.is((await user.getCart({})).cart?.id, merged.cart?.id);
  // A merged cart takes no more writes.
  t.is((await failure(merging.addCartItem({ cartId: guestId, sku: fresh.sku, quantity: 1 }))).reason, "CART_NOT_ACTIVE");
});

test("a user without an active cart gets the guest's lines, currency and destination in a new cart; another user cannot merge it again", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000, EUR: 900 } });
  const created = await m.guest().createCart({ currencyCode: "EUR" });
  await m.guest(created.cartToken).addCartItem({ cartId: created.cart!.id, sku, quantity: 2 });
  await m.guest(created.cartToken).setCartShipping({ cartId: created.cart!.id, shipping: { countryCode: "FR", shippingOptionId: "standard" } });
  const user = await m.user(undefined, created.cartToken);
  const merged = await user.mergeCart({ guestCartId: created.cart!.id });
  t.is(merged.cart?.currencyCode, "EUR");
  t.is(merged.cart?.state, CartState.ACTIVE);
  t.not(merged.cart?.id, created.cart?.id);
  t.deepEqual(merged.cart?.lines.map((l) => [l.sku, l.quantity, l.unitPrice?.amountMinor]), [[sku, 2, 900n]]);
  t.is(merged.cart?.shipping?.countryCode, "FR", "the guest's destination comes along");
  t.true(merged.cart?.totals?.shippingKnown);

  const intruder = await m.user(undefined, created.cartToken);
  t.is((await failure(intruder.mergeCart({ guestCartId: created.cart!.id }))).code, Code.NotFound);
});

test("MergeCart needs a signed-in user and the guest cart's token: unauthenticated without a user, not_found with a wrong token", async (t) => {
  const m = mesh();
  const created = await m.guest().createCart({});
  t.is((await failure(m.guest(created.cartToken).mergeCart({ guestCartId: created.cart!.id }))).code, Code.Unauthenticated);
  const other = await m.guest().createCart({});
  const wrong = await m.user(undefined, other.cartToken);
  t.is((await failure(wrong.mergeCart({ guestCartId: created.cart!.id }))).code, Code.NotFound);
  const none = await m.user();
  t.is((await failure(none.mergeCart({ guestCartId: created.cart!.id }))).code, Code.NotFound);
  t.is((await m.guest(created.cartToken).getCart({ cartId: created.cart!.id })).cart?.state, CartState.ACTIVE);
});

