// PlaceOrder with a shipping quote: the order's shipping is exactly the quoted price, even when the
// rates change after the quote; an expired quote, or one made for another cart or address, is refused
// with FAILED_PRECONDITION and a reason the storefront can show, and nothing is created.
import test from "ava";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { address, Code, failure, guestCart, meshPerFile, placeRequest, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);

/** The cart's quote for the helpers' default address and standard shipping. */
async function quoteFor(m: ReturnType<typeof mesh>, cartId: string, token: string, overrides: { postalCode?: string } = {}) {
  const a = { ...address(), ...overrides };
  const { cart } = await m.carts.guest(token).setCartShipping({
    cartId,
    shipping: { countryCode: a.countryCode!, region: a.region!, postalCode: a.postalCode!, shippingOptionId: "standard" },
  });
  return { quoteId: cart!.shipping!.quoteId, shipping: cart!.totals!.shipping!.amountMinor, total: cart!.totals!.total!.amountMinor };
}

// Serial: it changes the shared shipping service's rates for a moment.
test.serial("the order's shipping is the quoted price, even after the rates changed", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { price: 1000, stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 2 }]);
  const quote = await quoteFor(m, cartId, token);
  t.is(quote.shipping, 599n);
  // Staff raise every rate after the buyer saw the quote: the quote still holds.
  const before = await m.sql<{ id: string; rates: unknown }>("shipping", "select id, rates from shipping_method");
  t.teardown(async () => {
    for (const row of before) await m.sql("shipping", "update shipping_method set rates = $2 where id = $1", [row.id, JSON.stringify(row.rates)]);
  });
  await m.sql("shipping", "update shipping_method set rates = jsonb_set(rates, '{0,rule,tiers,0,price}', '4999')");
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingQuoteId: quote.quoteId }));
  t.is(order!.status, OrderStatus.CONFIRMED);
  t.is(order!.totals!.shipping!.amountMinor, quote.shipping);
  t.is(order!.totals!.total!.amountMinor, quote.total);
});

test("an expired quote, or one made for another address or cart, is refused and creates no order", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { price: 1000, stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const other = await guestCart(m, [{ sku, quantity: 3 }]);
  const otherQuote = await quoteFor(m, other.cartId, other.token);
  const elsewhere = await quoteFor(m, cartId, token, { postalCode: "99501" });
  const place = (shippingQuoteId: string) => failure(m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingQuoteId })));

  const tampered = await place(otherQuote.quoteId);
  t.is(tampered.code, Code.FailedPrecondition);
  t.is(tampered.reason, "QUOTE_MISMATCH");
  t.is((await place(elsewhere.quoteId)).reason, "QUOTE_MISMATCH");

  const quote = await quoteFor(m, cartId, token);
  await m.sql("shipping", "update shipping_quote set expires_at = clock_timestamp() - interval '1 second' where id = $1", [quote.quoteId]);
  const expired = await place(quote.quoteId);
  t.is(expired.code, Code.FailedPrecondition);
  t.is(expired.reason, "QUOTE_EXPIRED");
  t.regex(expired.message, /expired/);

  const malformed = await place("not-a-quote");
  t.is(malformed.code, Code.InvalidArgument);
  t.deepEqual(malformed.fields, ["shipping_quote_id"]);
  t.deepEqual(await m.sql("order", "select id from orders where cart_id = $1", [cartId]), []);
});
