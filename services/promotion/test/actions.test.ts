// Every condition and action through the service (contract → stored JSON → engine → answer), with
// codes so that tests running at once do not see each other's promotions.
import test from "ava";
import { randomUUID } from "node:crypto";
import { type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { CodeRejection, type PromotionSchema } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { failure, line, newCode, promotionSpec, startPromotion, type Harness } from "./helpers.ts";

let h: Harness;
test.before(async () => {
  h = await startPromotion();
});
test.after.always(async () => {
  await h?.stop();
});

const usd = (amountMinor: bigint) => ({ amountMinor, currencyCode: "USD" });

async function withCode(spec: MessageInitShape<typeof PromotionSchema>): Promise<string> {
  const code = newCode("ACT");
  await h.admin.createPromotion({ promotion: promotionSpec({ ...spec, code }) });
  return code;
}

const shoes = randomUUID();
const socks = randomUUID();
const cart = (codes: string[], extra: Record<string, unknown> = {}) => ({
  currencyCode: "USD",
  lines: [line("SHOE-1", 1, 5000n, [shoes]), line("SOCK-1", 3, 500n, [socks]), line("SOCK-2", 1, 300n, [socks])],
  shippingOptionId: "express",
  shippingPrice: 1499n,
  codes,
  ...extra,
});

test("each action: order percent and amount, items percent and amount per unit, free shipping, buy X get Y", async (t) => {
  const cases: Array<[string, MessageInitShape<typeof PromotionSchema>["action"], Array<[string, bigint]>, bigint]> = [
    ["order 10 %", { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } }, [["SHOE-1", 500n], ["SOCK-1", 150n], ["SOCK-2", 30n]], 0n],
    ["order 6.80 off", { kind: { case: "orderAmountOff", value: { amounts: [usd(680n), { amountMinor: 1n, currencyCode: "EUR" }] } } }, [["SHOE-1", 500n], ["SOCK-1", 150n], ["SOCK-2", 30n]], 0n],
    ["socks 50 %", { kind: { case: "itemsOff", value: { items: { categoryIds: [socks] }, percentBps: 5000 } } }, [["SOCK-1", 750n], ["SOCK-2", 150n]], 0n],
    ["1.00 off each sock", { kind: { case: "itemsOff", value: { items: { skus: ["SOCK-1", "SOCK-2"] }, amountsPerUnit: [usd(100n)] } } }, [["SOCK-1", 300n], ["SOCK-2", 100n]], 0n],
    ["free express", { kind: { case: "freeShipping", value: { shippingOptionIds: ["express"] } } }, [], 1499n],
    ["socks: buy 2 get 1", { kind: { case: "buyXGetY", value: { buy: { categoryIds: [socks] }, buyQuantity: 2, getQuantity: 1, percentBps: 10_000 } } }, [["SOCK-2", 300n]], 0n],
  ];
  for (const [name, action, allocations, shipping] of cases) {
    const code = await withCode({ name, action });
    const result = await h.cart.evaluateCart(cart([code]));
    t.deepEqual(result.rejectedCodes, [], name);
    const [applied] = result.applied;
    t.is(applied?.label, name);
    t.deepEqual(applied!.allocations.map((a) => [a.sku, a.amount]), allocations, name);
    t.is(applied!.shippingDiscount?.amountMinor, shipping, name);
    t.is(applied!.amount?.amountMinor, allocations.reduce((sum, [, a]) => sum + a, 0n), name);
  }
});

test("each condition holds or gives its reason: minimum, items with quantity, signed-in, roles, currency, window, first order", async (t) => {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const cases: Array<[MessageInitShape<typeof PromotionSchema>, Record<string, unknown>, CodeRejection | undefined]> = [
    [{ conditions: { minimumSubtotal: [usd(7000n)] } }, {}, CodeRejection.MINIMUM_NOT_REACHED],
    [{ conditions: { minimumSubtotal: [usd(6800n)] } }, {}, undefined],
    [{ conditions: { items: { categoryIds: [socks] }, minimumQuantity: 5 } }, {}, CodeRejection.NOT_APPLICABLE],
    [{ conditions: { items: { categoryIds: [socks] }, minimumQuantity: 4 } }, {}, undefined],
    [{ conditions: { items: { productIds: [randomUUID()] } } }, {}, CodeRejection.NOT_APPLICABLE],
    [{ conditions: { signedInOnly: true } }, {}, CodeRejection.NOT_FOR_CUSTOMER],
    [{ conditions: { signedInOnly: true } }, { customerId: "u-1" }, undefined],
    [{ conditions: { customerRoles: ["vip"] } }, { customerId: "u-1", customerRoles: ["customer"] }, CodeRejection.NOT_FOR_CUSTOMER],
    [{ conditions: { customerRoles: ["vip"] } }, { customerId: "u-1", customerRoles: ["vip"] }, undefined],
    [{ conditions: { currencies: ["EUR"] } }, {}, CodeRejection.NOT_APPLICABLE],
    [{ conditions: { firstOrderOnly: true } }, { customerId: randomUUID() }, undefined],
    [{ startTime: { seconds: now + 600n } }, {}, CodeRejection.NOT_STARTED],
    [{ startTime: { seconds: now - 600n }, endTime: { seconds: now - 60n } }, {}, CodeRejection.EXPIRED],
  ];
  for (const [spec, extra, reason] of cases) {
    const code = await withCode(spec);
    const result = await h.cart.evaluateCart(cart([code], extra));
    t.deepEqual(result.rejectedCodes.map((r) => r.reason), reason === undefined ? [] : [reason], JSON.stringify(Object.keys(spec)));
    t.is(result.applied.length, reason === undefined ? 1 : 0);
  }
});

test("stacking through the service: an exclusive code of higher priority applies alone, the other code is NOT_COMBINABLE", async (t) => {
  const exclusive = await withCode({ name: "exclusive 20 %", stacking: 1, priority: 10, action: { kind: { case: "orderPercentOff", value: { percentBps: 2000 } } } });
  const combinable = await withCode({ name: "combinable 10 %", priority: 5 });
  const result = await h.cart.evaluateCart(cart([combinable, exclusive]));
  t.deepEqual(result.applied.map((a) => a.label), ["exclusive 20 %"]);
  t.deepEqual(result.rejectedCodes.map((r) => [r.code, r.reason]), [[combinable, CodeRejection.NOT_COMBINABLE]]);
  t.is(result.discount?.amountMinor, 1360n);
});

test("bad evaluation input is refused naming each field", async (t) => {
  const bad = await failure(
    h.cart.evaluateCart({
      currencyCode: "usd",
      lines: [line("not a sku", 0, -1n), line("SKU-A", 1, 10n), line("SKU-A", 1, 10n)],
      shippingPrice: -5n,
      codes: ["has space", "X".repeat(65)],
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(
    [...bad.fields].sort(),
    ["codes[0]", "codes[1]", "currency_code", "lines[0].quantity", "lines[0].sku", "lines[0].unit_price", "lines[2].sku", "shipping_price"].sort(),
  );
  const tooMany = await failure(h.cart.evaluateCart({ currencyCode: "USD", codes: Array.from({ length: 11 }, (_, i) => `CODE${i}`) }));
  t.deepEqual(tooMany.fields, ["codes"]);
});
