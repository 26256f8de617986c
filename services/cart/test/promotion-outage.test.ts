// Promotion down degrades what needs it, and only that: reads and writes show the cart without
// discounts, its codes flagged PROMOTION_UNAVAILABLE; applying a code and PrepareCheckout answer
// unavailable naming promotion (a checkout never goes through without the discounts it was shown).
import test from "ava";
import { randomBytes } from "node:crypto";
import { Code, failure, sellable, startMesh } from "./helpers.ts";

test("with promotion stopped, the cart reads without discounts and flags its codes; ApplyPromotionCode and PrepareCheckout are unavailable", async (t) => {
  const m = await startMesh(t);
  const { sku } = await sellable(m, { prices: { USD: 1000 } });
  const code = `DOWN-${randomBytes(3).toString("hex").toUpperCase()}`;
  await m.promotionAdmin.createPromotion({ promotion: { name: "10 % off", code, conditions: { everything: true }, action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } } } });
  const user = await m.user();
  const { cart } = await user.addCartItem({ sku, quantity: 2 });
  t.is((await user.applyPromotionCode({ code })).cart!.totals?.discount?.amountMinor, 200n);

  await m.stopPromotion();
  const read = (await user.getCart({})).cart!;
  t.is(read.totals?.discount?.amountMinor, 0n);
  t.deepEqual(read.promotionCodes.map((c) => [c.code, c.applied, c.reason]), [[code, false, "PROMOTION_UNAVAILABLE"]]);
  t.is((await user.addCartItem({ sku, quantity: 1 })).cart!.itemCount, 3, "writes go on");
  const apply = await failure(user.applyPromotionCode({ code: "OTHER-1" }));
  t.deepEqual([apply.code, apply.reason], [Code.Unavailable, "PROMOTION_UNAVAILABLE"]);
  const prepare = await failure(
    m.service.prepareCheckout({ cartId: cart!.id, userId: user.userId, shipping: { countryCode: "US", region: "NY", postalCode: "10001", shippingOptionId: "standard" } }),
  );
  t.deepEqual([prepare.code, prepare.reason], [Code.Unavailable, "PROMOTION_UNAVAILABLE"]);
});
