// Every read prices the cart now: names and prices from the catalog, stock from inventory, each line's
// problem flagged (never dropped), totals with tax and shipping once a destination is set.
import test from "ava";
import { CartLineStatus } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { Code, failure, meshPerFile, sellable } from "./helpers.ts";

const mesh = meshPerFile(test);

test("names and prices come from the catalog at read time: a price changed in the catalog shows in the cart", async (t) => {
  const m = mesh();
  const { sku, product } = await sellable(m, { name: "Blue Mug", prices: { USD: 1250, EUR: 1100 } });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 3 });
  const line = cart!.lines[0]!;
  t.is(line.productName, "Blue Mug");
  t.is(line.productId, product.id);
  t.is(line.productSlug, product.slug);
  t.deepEqual(line.options, { colour: "blue" });
  t.is(line.imageUrl, product.imageUrls[0] ?? "");
  t.is(line.unitPrice?.amountMinor, 1250n);
  t.is(line.lineTotal?.amountMinor, 3750n);
  t.is(line.status, CartLineStatus.OK);
  t.is(line.available, 100n);
  t.true(cart!.checkoutReady);

  await m.catalogAdmin.updateProduct({
    product: { id: product.id, etag: product.etag, name: "Big Blue Mug", variants: [{ sku, options: { colour: "blue" }, prices: [{ currencyCode: "USD", amountMinor: 1500n }] }] },
    updateMask: { paths: ["name", "variants"] },
  });
  const after = (await user.getCart({})).cart!;
  t.is(after.lines[0]?.productName, "Big Blue Mug");
  t.is(after.lines[0]?.unitPrice?.amountMinor, 1500n);
  t.is(after.totals?.subtotal?.amountMinor, 4500n);
});

test("an archived product's line is flagged UNAVAILABLE and kept, and left out of the subtotal", async (t) => {
  const m = mesh();
  const keep = await sellable(m, { prices: { USD: 700 } });
  const gone = await sellable(m, { prices: { USD: 900 } });
  const user = await m.user();
  await user.addCartItem({ sku: keep.sku, quantity: 1 });
  await user.addCartItem({ sku: gone.sku, quantity: 2 });
  await m.catalogAdmin.archiveProduct({ id: gone.product.id });

  const cart = (await user.getCart({})).cart!;
  t.deepEqual(cart.lines.map((l) => [l.sku, l.quantity, l.status]), [
    [keep.sku, 1, CartLineStatus.OK],
    [gone.sku, 2, CartLineStatus.UNAVAILABLE],
  ]);
  t.is(cart.totals?.subtotal?.amountMinor, 700n);
  t.false(cart.checkoutReady);
  t.is(cart.itemCount, 3);
});

test("a line with no stock left is OUT_OF_STOCK, one with too little INSUFFICIENT_STOCK, one without a price in the currency NO_PRICE", async (t) => {
  const m = mesh();
  const scarce = await sellable(m, { stock: 5 });
  const dollarsOnly = await sellable(m, { prices: { USD: 500 } });
  const user = await m.user();
  await user.createCart({ currencyCode: "USD" });
  await user.addCartItem({ sku: scarce.sku, quantity: 4 });
  await user.addCartItem({ sku: dollarsOnly.sku, quantity: 1 });

  await m.inventoryAdmin.adjustStock({ sku: scarce.sku, delta: -2n, reason: MovementReason.DAMAGED });
  const low = (await user.getCart({})).cart!;
  t.is(low.lines[0]?.status, CartLineStatus.INSUFFICIENT_STOCK);
  t.is(low.lines[0]?.available, 3n);
  t.is(low.lines[0]?.quantity, 4, "the line keeps its quantity");

  await m.inventoryAdmin.adjustStock({ sku: scarce.sku, delta: -3n, reason: MovementReason.LOST });
  const empty = (await user.getCart({})).cart!;
  t.is(empty.lines[0]?.status, CartLineStatus.OUT_OF_STOCK);
  t.is(empty.lines[0]?.available, 0n);
  t.is(empty.totals?.subtotal?.amountMinor, 500n, "only the buyable line counts");

  const euros = (await user.createCart({ currencyCode: "EUR" })).cart!;
  t.is(euros.lines.find((l) => l.sku === dollarsOnly.sku)?.status, CartLineStatus.NO_PRICE);
  t.is(euros.lines.find((l) => l.sku === dollarsOnly.sku)?.unitPrice?.amountMinor, 0n);
  t.is(euros.lines.length, 2, "nothing dropped");
});

test("a draft or unknown SKU cannot be added: invalid_argument PRODUCT_UNAVAILABLE naming sku", async (t) => {
  const m = mesh();
  const draft = await sellable(m, { status: ProductStatus.DRAFT });
  const user = await m.user();
  const refused = await failure(user.addCartItem({ sku: draft.sku, quantity: 1 }));
  t.is(refused.code, Code.InvalidArgument);
  t.is(refused.reason, "PRODUCT_UNAVAILABLE");
  t.deepEqual(refused.fields, ["sku"]);
  const unknown = await failure(user.addCartItem({ sku: "NO-SUCH-SKU", quantity: 1 }));
  t.is(unknown.reason, "PRODUCT_UNAVAILABLE");
});

test("with a destination set, totals add shipping and tax at the destination's rate, rounded half up", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1999, EUR: 1850 } });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 1 });
  t.false(cart!.totals!.shippingKnown);
  t.is(cart!.totals!.tax?.amountMinor, 0n);
  t.is(cart!.totals!.total?.amountMinor, 1999n);

  // California: 7.25 % of (19.99 + 5.99 standard) = 1.88355 → 1.88.
  const ca = (await user.setCartShipping({ shipping: { countryCode: "US", region: "CA", postalCode: "94103", shippingOptionId: "standard" } })).cart!;
  t.true(ca.totals!.shippingKnown);
  t.is(ca.totals!.subtotal?.amountMinor, 1999n);
  t.is(ca.totals!.shipping?.amountMinor, 599n);
  t.is(ca.totals!.taxRateBps, 725);
  t.is(ca.totals!.tax?.amountMinor, 188n);
  t.is(ca.totals!.total?.amountMinor, 1999n + 599n + 188n);
  t.like(ca.shipping, { countryCode: "US", region: "CA", postalCode: "94103", shippingOptionId: "standard" });

  // Over the free-shipping threshold at home: standard costs nothing; tax on the goods only.
  const big = (await user.updateCartItem({ sku, quantity: 3 })).cart!;
  t.is(big.totals!.shipping?.amountMinor, 0n);
  t.is(big.totals!.tax?.amountMinor, (5997n * 725n + 5000n) / 10000n);

  // Abroad, in euros: Germany 19 % on goods + international express.
  await user.createCart({ currencyCode: "EUR" });
  const de = (await user.setCartShipping({ shipping: { countryCode: "de", shippingOptionId: "express" } })).cart!;
  const options = (await m.guest().listShippingOptions({ countryCode: "DE", currencyCode: "EUR" })).options;
  const express = options.find((o) => o.id === "express")!;
  t.is(de.totals!.shipping?.amountMinor, express.price?.amountMinor);
  t.is(de.totals!.taxRateBps, 1900);
  const base = 3n * 1850n + express.price!.amountMinor;
  t.is(de.totals!.tax?.amountMinor, (base * 1900n + 5000n) / 10000n);
  t.is(de.totals!.total?.amountMinor, base + de.totals!.tax!.amountMinor);
});

test("ListShippingOptions prices each option for the destination and currency, cheapest first; bad input names the field", async (t) => {
  const m = mesh();
  const home = (await m.guest().listShippingOptions({ countryCode: "US" })).options;
  t.deepEqual(home.map((o) => [o.id, o.price?.currencyCode, o.price?.amountMinor]), [
    ["standard", "USD", 599n],
    ["express", "USD", 1499n],
  ]);
  t.is(home[0]?.displayName, "Standard (3–5 days)");
  const abroad = (await m.guest().listShippingOptions({ countryCode: "FR", currencyCode: "EUR" })).options;
  t.true(abroad.every((o) => o.price?.currencyCode === "EUR" && o.price.amountMinor > 0n));
  t.true(abroad[0]!.price!.amountMinor <= abroad[1]!.price!.amountMinor);

  const bad = await failure(m.guest().listShippingOptions({ countryCode: "XX", currencyCode: "usd" }));
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields.sort(), ["country_code", "currency_code"]);
});

test("SetCartShipping refuses an option not offered, a bad country and over-long fields, naming each and changing nothing", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m);
  const user = await m.user();
  await user.addCartItem({ sku, quantity: 1 });
  const unknown = await failure(user.setCartShipping({ shipping: { countryCode: "US", shippingOptionId: "teleport" } }));
  t.is(unknown.code, Code.InvalidArgument);
  t.deepEqual(unknown.fields, ["shipping.shipping_option_id"]);
  const bad = await failure(
    user.setCartShipping({ shipping: { countryCode: "ZZ", region: "r".repeat(101), postalCode: "1".repeat(21), shippingOptionId: "standard" } }),
  );
  t.deepEqual(bad.fields.sort(), ["shipping.country_code", "shipping.postal_code", "shipping.region"]);
  const cart = (await user.getCart({})).cart!;
  t.is(cart.shipping, undefined);
  t.false(cart.totals!.shippingKnown);
});
