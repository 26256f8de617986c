// The cart's promotions through the real promotion service: codes applied and removed, totals that
// show each promotion with its label, amount and per-line allocation, tax after discounts, free
// shipping on the cart's own shipping price, buy 2 get 1 on a catalog category, and a clear reason
// for every code that does not apply.
import test from "ava";
import { randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { PromotionSchema } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { Code, failure, meshPerFile, sellable, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test);

const newCode = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex").toUpperCase()}`;

async function promotion(m: Mesh, spec: MessageInitShape<typeof PromotionSchema>) {
  const base: MessageInitShape<typeof PromotionSchema> = { name: "10 % off", conditions: { everything: true }, action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } } };
  return (await m.promotionAdmin.createPromotion({ promotion: create(PromotionSchema, { ...base, ...spec } as MessageInitShape<typeof PromotionSchema>) })).promotion!;
}

test("an applied code shows in the totals with its label, amount and allocation per line; tax applies after the discount", async (t) => {
  const m = mesh();
  const code = newCode("TEN");
  const p = await promotion(m, { code, name: "Ten percent off" });
  const a = await sellable(m, { prices: { USD: 3333 } });
  const b = await sellable(m, { prices: { USD: 3333 } });
  const user = await m.user();
  await user.addCartItem({ sku: a.sku, quantity: 1 });
  await user.addCartItem({ sku: b.sku, quantity: 2 });
  await user.setCartShipping({ shipping: { countryCode: "US", region: "CA", postalCode: "94105", shippingOptionId: "express" } });
  const { cart } = await user.applyPromotionCode({ code: code.toLowerCase() });
  const totals = cart!.totals!;
  t.is(totals.subtotal?.amountMinor, 9999n);
  t.is(totals.discount?.amountMinor, 1000n);
  t.is(totals.promotions.length, 1);
  const [applied] = totals.promotions;
  t.deepEqual([applied!.promotionId, applied!.code, applied!.label, applied!.amount?.amountMinor], [p.id, code, "Ten percent off", 1000n]);
  t.deepEqual(applied!.allocations.map((x) => [x.sku, x.amountMinor]), [[a.sku, 333n], [b.sku, 667n]]);
  // Tax after discounts: 7.25 % of (9 999 − 1 000 + 1 499) = 761.1 → 761.
  t.is(totals.shipping?.amountMinor, 1499n);
  t.is(totals.tax?.amountMinor, 761n);
  t.is(totals.total?.amountMinor, 9999n - 1000n + 1499n + 761n);
  t.deepEqual(cart!.promotionCodes.map((c) => [c.code, c.applied]), [[code, true]]);
  // Applying it again changes nothing; removing it takes the discount away.
  t.is((await user.applyPromotionCode({ code })).cart!.promotionCodes.length, 1);
  const removed = (await user.removePromotionCode({ code: code.toLowerCase() })).cart!;
  t.deepEqual([removed.totals?.discount?.amountMinor, removed.promotionCodes.length], [0n, 0]);
});

test("a code that does not apply is refused with its reason and not kept: unknown, minimum not reached, not started, expired, paused, not for this customer", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 } });
  const guest = m.guest();
  const created = await guest.createCart({});
  const withToken = m.guest(created.cartToken);
  await withToken.addCartItem({ cartId: created.cart!.id, sku, quantity: 1 });
  const minimum = newCode("MIN");
  await promotion(m, { code: minimum, conditions: { minimumSubtotal: [{ amountMinor: 5000n, currencyCode: "USD" }] } });
  const soon = newCode("SOON");
  await promotion(m, { code: soon, startTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600) } });
  const old = newCode("OLD");
  await promotion(m, { code: old, endTime: { seconds: BigInt(Math.floor(Date.now() / 1000) - 60) } });
  const paused = newCode("PAUSED");
  await m.promotionAdmin.pausePromotion({ promotionId: (await promotion(m, { code: paused })).id, paused: true });
  const members = newCode("MEMBERS");
  await promotion(m, { code: members, conditions: { signedInOnly: true } });
  const cases: Array<[string, string]> = [
    ["NOPE-123", "PROMOTION_CODE_UNKNOWN"],
    [minimum, "PROMOTION_MINIMUM_NOT_REACHED"],
    [soon, "PROMOTION_NOT_STARTED"],
    [old, "PROMOTION_EXPIRED"],
    [paused, "PROMOTION_PAUSED"],
    [members, "PROMOTION_NOT_FOR_CUSTOMER"],
  ];
  for (const [code, reason] of cases) {
    const refused = await failure(withToken.applyPromotionCode({ cartId: created.cart!.id, code }));
    t.deepEqual([refused.code, refused.reason], [Code.FailedPrecondition, reason], code);
    t.true(refused.message.length > 0);
  }
  t.is((await withToken.getCart({ cartId: created.cart!.id })).cart!.promotionCodes.length, 0);
  const bad = await failure(withToken.applyPromotionCode({ cartId: created.cart!.id, code: "has space" }));
  t.deepEqual([bad.code, bad.fields], [Code.InvalidArgument, ["code"]]);
  const long = await failure(withToken.applyPromotionCode({ cartId: created.cart!.id, code: "X".repeat(65) }));
  t.deepEqual(long.fields, ["code"]);
});

test("a kept code that stops applying stays on the cart, flagged with its reason, and applies again when the cart qualifies", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 3000 } });
  const code = newCode("OVER50");
  await promotion(m, { code, conditions: { minimumSubtotal: [{ amountMinor: 5000n, currencyCode: "USD" }] } });
  const user = await m.user();
  await user.addCartItem({ sku, quantity: 2 });
  await user.applyPromotionCode({ code });
  const fewer = (await user.updateCartItem({ sku, quantity: 1 })).cart!;
  t.is(fewer.totals?.discount?.amountMinor, 0n);
  t.deepEqual(fewer.promotionCodes.map((c) => [c.code, c.applied, c.reason]), [[code, false, "PROMOTION_MINIMUM_NOT_REACHED"]]);
  const more = (await user.updateCartItem({ sku, quantity: 2 })).cart!;
  t.is(more.totals?.discount?.amountMinor, 600n);
});

test("free shipping takes the cart's own shipping price off, for the named option only", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 2000 } });
  const code = newCode("SHIP");
  await promotion(m, { code, name: "Free express", action: { kind: { case: "freeShipping", value: { shippingOptionIds: ["express"] } } } });
  const user = await m.user();
  await user.addCartItem({ sku, quantity: 1 });
  await user.setCartShipping({ shipping: { countryCode: "US", region: "TX", postalCode: "73301", shippingOptionId: "express" } });
  const { cart } = await user.applyPromotionCode({ code });
  const totals = cart!.totals!;
  t.deepEqual([totals.shipping?.amountMinor, totals.shippingDiscount?.amountMinor], [0n, 1499n]);
  t.is(totals.promotions[0]!.shippingDiscount?.amountMinor, 1499n);
  // Tax on the goods only now: 6.25 % of 2 000 = 125.
  t.is(totals.tax?.amountMinor, 125n);
  const standard = (await user.setCartShipping({ shipping: { countryCode: "US", region: "TX", postalCode: "73301", shippingOptionId: "standard" } })).cart!;
  t.deepEqual([standard.totals?.shipping?.amountMinor, standard.totals?.shippingDiscount?.amountMinor], [599n, 0n]);
  t.deepEqual(standard.promotionCodes.map((c) => c.reason), ["PROMOTION_NOT_APPLICABLE"]);
});

test("buy 2 get 1 on a catalog category: the cheapest of three units in it is free, whatever else the cart holds", async (t) => {
  const m = mesh();
  const dear = await sellable(m, { prices: { USD: 900 } });
  const { product: cheapProduct, sku: cheap } = await sellable(m, { prices: { USD: 500 } });
  const other = await sellable(m, { prices: { USD: 100 } });
  // Both socks in one category: move the cheap one into the dear one's.
  await m.catalogAdmin.updateProduct({ product: { id: cheapProduct.id, etag: cheapProduct.etag, categoryId: dear.product.categoryId }, updateMask: { paths: ["category_id"] } });
  await promotion(m, {
    automatic: true,
    name: "Socks: buy 2, get 1 free",
    conditions: { everything: true },
    action: { kind: { case: "buyXGetY", value: { buy: { categoryIds: [dear.product.categoryId] }, buyQuantity: 2, getQuantity: 1, percentBps: 10_000 } } },
  });
  const user = await m.user();
  await user.addCartItem({ sku: dear.sku, quantity: 2 });
  await user.addCartItem({ sku: other.sku, quantity: 5 });
  const two = (await user.getCart({})).cart!;
  t.is(two.totals?.discount?.amountMinor, 0n, "two units earn nothing yet");
  const three = (await user.addCartItem({ sku: cheap, quantity: 1 })).cart!;
  t.is(three.totals?.discount?.amountMinor, 500n);
  t.deepEqual(three.totals!.promotions[0]!.allocations.map((x) => [x.sku, x.amountMinor]), [[cheap, 500n]]);
  t.is(three.totals!.promotions[0]!.label, "Socks: buy 2, get 1 free");
});

test("PrepareCheckout prices the cart with its promotions", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 } });
  const code = newCode("PREP");
  const p = await promotion(m, { code });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 2 });
  await user.applyPromotionCode({ code });
  const prepared = await m.service.prepareCheckout({
    cartId: cart!.id,
    userId: user.userId,
    shipping: { countryCode: "US", region: "NY", postalCode: "10001", shippingOptionId: "standard" },
  });
  t.deepEqual(prepared.cart!.totals!.promotions.map((x) => [x.promotionId, x.amount?.amountMinor]), [[p.id, 200n]]);
  t.is(prepared.cart!.totals!.discount?.amountMinor, 200n);
});

test("a guest cart's codes follow it into the user's cart when it is merged", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 } });
  const code = newCode("MERGE");
  await promotion(m, { code });
  const created = await m.guest().createCart({});
  const guest = m.guest(created.cartToken);
  await guest.addCartItem({ cartId: created.cart!.id, sku, quantity: 1 });
  await guest.applyPromotionCode({ cartId: created.cart!.id, code });
  const user = await m.user(undefined, created.cartToken);
  const { cart } = await user.mergeCart({ guestCartId: created.cart!.id });
  t.deepEqual(cart!.promotionCodes.map((c) => [c.code, c.applied]), [[code, true]]);
  t.is(cart!.totals?.discount?.amountMinor, 100n);
});

test("only the cart's owner may apply or remove its codes: another user and a guest without the token get not_found", async (t) => {
  const m = mesh();
  const { sku } = await sellable(m, { prices: { USD: 1000 } });
  const code = newCode("OWN");
  await promotion(m, { code });
  const owner = await m.user();
  const { cart } = await owner.addCartItem({ sku, quantity: 1 });
  const stranger = await m.user();
  t.is((await failure(stranger.applyPromotionCode({ cartId: cart!.id, code }))).code, Code.NotFound);
  t.is((await failure(m.guest().applyPromotionCode({ cartId: cart!.id, code }))).code, Code.NotFound);
  await owner.applyPromotionCode({ code });
  t.is((await failure(stranger.removePromotionCode({ cartId: cart!.id, code }))).code, Code.NotFound);
  t.is((await owner.getCart({})).cart!.promotionCodes.length, 1, "the code is still there");
});
