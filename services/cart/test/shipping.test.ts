// Shipping in the cart comes from the shipping service: priced for the cart's weight and discounted
// subtotal, carried with the quote it comes from, and honoured (or refused) at checkout.
import test from "ava";
import { Code, failure, meshPerFile, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);
const toTexas = { countryCode: "US", region: "TX", postalCode: "73301", shippingOptionId: "standard" };

test("shipping is priced by the cart's weight, and the cart names the quote its totals use", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 }, weightGrams: 700 });
  const user = await m.user();
  await user.addCartItem({ sku, quantity: 2 });
  const light = (await user.setCartShipping({ shipping: toTexas })).cart!;
  t.is(light.totals!.shipping?.amountMinor, 599n, "1.4 kg: the first tier");
  t.regex(light.shipping!.quoteId, /^[0-9a-f-]{36}$/);
  t.true(light.shipping!.quoteExpireTime!.seconds > BigInt(Math.floor(Date.now() / 1000)));

  const heavy = (await user.updateCartItem({ sku, quantity: 3 })).cart!;
  t.is(heavy.totals!.shipping?.amountMinor, 899n, "2.1 kg: the second tier");
  t.not(heavy.shipping!.quoteId, light.shipping!.quoteId);
});

test("PrepareCheckout charges the quote's price, and refuses a quote made for another cart or destination", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 }, weightGrams: 300 });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 1 });
  const quoted = (await user.setCartShipping({ cartId: cart!.id, shipping: toTexas })).cart!;
  const prepared = await m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: { ...toTexas, quoteId: quoted.shipping!.quoteId } });
  t.is(prepared.shippingOption!.price!.amountMinor, quoted.totals!.shipping!.amountMinor);
  t.is(prepared.cart!.totals!.total!.amountMinor, quoted.totals!.total!.amountMinor);

  // The same quote for another destination, or after the cart changed, does not hold.
  const elsewhere = await failure(
    m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: { ...toTexas, postalCode: "10001", quoteId: quoted.shipping!.quoteId } }),
  );
  t.is(elsewhere.code, Code.FailedPrecondition);
  t.is(elsewhere.reason, "QUOTE_MISMATCH");
  await user.updateCartItem({ cartId: cart!.id, sku, quantity: 2 });
  const changed = await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: { ...toTexas, quoteId: quoted.shipping!.quoteId } }));
  t.is(changed.reason, "QUOTE_MISMATCH");
  const unknown = await failure(
    m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: { ...toTexas, quoteId: "01890a5d-ac96-774b-bcce-b302099a8057" } }),
  );
  t.is(unknown.reason, "QUOTE_NOT_FOUND");
});

test("a method whose tiers the parcel outweighs is not offered for the cart", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 }, weightGrams: 16_000 });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 2 });
  const shipped = (await user.setCartShipping({ cartId: cart!.id, shipping: toTexas })).cart!;
  t.false(shipped.totals!.shippingKnown, "32 kg: over the default zones' 30 kg");
  const refused = await failure(m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: toTexas }));
  t.is(refused.code, Code.InvalidArgument);
  t.deepEqual(refused.fields, ["shipping.shipping_option_id"]);
});
