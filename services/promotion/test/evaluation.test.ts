// The evaluation engine as plain functions: every condition and action, stacking and priority, the
// allocation's remainder rule, nothing below zero, determinism. No infrastructure.
import test from "ava";
import { allocate, percentOf } from "../src/allocation.ts";
import { evaluate } from "../src/evaluation.ts";
import type { Action, Candidate, CartInput, CartLineInput, Conditions, PromotionRule } from "../src/rules.ts";

const noConditions: Conditions = {
  everything: true,
  minimumSubtotal: {},
  minimumQuantity: 0,
  signedInOnly: false,
  firstOrderOnly: false,
  customerRoles: [],
  currencies: [],
};
const select = (s: Partial<{ skus: string[]; productIds: string[]; categoryIds: string[] }>) => ({ skus: [], productIds: [], categoryIds: [], ...s });

let sequence = 0;
function rule(action: Action, overrides: Partial<Omit<PromotionRule, "conditions">> & { conditions?: Partial<Conditions> } = {}): PromotionRule {
  sequence += 1;
  const { conditions, ...rest } = overrides;
  return {
    id: `00000000-0000-7000-8000-${String(sequence).padStart(12, "0")}`,
    name: `promotion ${sequence}`,
    state: "active",
    automatic: true,
    action,
    stacking: "combinable",
    priority: 0,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)),
    ...rest,
    conditions: { ...noConditions, ...conditions },
  };
}
const auto = (r: PromotionRule, extra: Partial<Candidate> = {}): Candidate => ({ rule: r, limitReached: false, ...extra });
const byCode = (r: PromotionRule, code: string, extra: Partial<Candidate> = {}): Candidate => ({ rule: { ...r, automatic: false }, code, limitReached: false, ...extra });

const line = (sku: string, quantity: number, unitPrice: bigint, extra: Partial<CartLineInput> = {}): CartLineInput => ({
  sku,
  productId: `product-${sku}`,
  categoryIds: [],
  quantity,
  unitPrice,
  ...extra,
});
const now = new Date(Date.UTC(2026, 5, 1));
function cart(lines: CartLineInput[], extra: Partial<CartInput> = {}): CartInput {
  return { currency: "EUR", lines, customer: { id: "", roles: [], hasOrdered: false }, codes: [], now, ...extra };
}
const percent = (bps: number): Action => ({ kind: "order_percent", bps });

test("allocate shares an amount in proportion, the remainder one unit each to the largest fractional parts, ties to the earlier line", (t) => {
  // 100 over three equal lines: 33.33… each → 33, 33, 33 and one unit left, to the first (tie).
  t.deepEqual(allocate(100n, [10n, 10n, 10n]), [34n, 33n, 33n]);
  // 10 over 1:2:4 (7ths): 1.43, 2.86, 5.71 → 1, 2, 5 and two left: to 2.86 (.86) then 5.71 (.71).
  t.deepEqual(allocate(10n, [1n, 2n, 4n]), [1n, 3n, 6n]);
  t.deepEqual(allocate(0n, [5n, 5n]), [0n, 0n]);
  t.deepEqual(allocate(7n, [0n, 0n]), [0n, 0n]);
  // A line with a whole share never gets a remainder unit, so no share passes its weight.
  t.deepEqual(allocate(3n, [1n, 1n, 1n]), [1n, 1n, 1n]);
});

test("allocations always sum to the amount exactly and never pass a line's value (many random carts)", (t) => {
  let seed = 42;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let run = 0; run < 2000; run++) {
    const weights = Array.from({ length: 1 + random(20) }, () => BigInt(random(100_000)));
    const total = weights.reduce((a, b) => a + b, 0n);
    const amount = total === 0n ? 0n : BigInt(random(Number(total) + 1));
    const shares = allocate(amount, weights);
    t.is(shares.reduce((a, b) => a + b, 0n), total === 0n ? 0n : amount);
    shares.forEach((share, i) => t.true(share >= 0n && share <= weights[i]!));
  }
});

test("percentOf rounds half up to the minor unit", (t) => {
  t.is(percentOf(1005n, 1000), 101n); // 100.5 → 101
  t.is(percentOf(1004n, 1000), 100n); // 100.4 → 100
  t.is(percentOf(999n, 10_000), 999n);
});

test("a percentage off the order is allocated across the lines by value and shows its label", (t) => {
  const ten = rule(percent(1000), { name: "10 % off everything" });
  const result = evaluate(cart([line("A", 1, 3333n), line("B", 2, 3333n)]), [auto(ten)]);
  t.is(result.discount, 1000n); // 10 % of 9 999 = 999.9 → 1 000
  t.deepEqual(result.applied[0]!.allocations, [333n, 667n]);
  t.is(result.applied[0]!.label, "10 % off everything");
  t.is(result.applied[0]!.allocations.reduce((a, b) => a + b, 0n), result.applied[0]!.amount);
});

test("a fixed amount off the order applies in the cart's currency only and never takes the order below zero", (t) => {
  const five = rule({ kind: "order_amount", amounts: { EUR: 500n } });
  t.is(evaluate(cart([line("A", 1, 1200n)]), [auto(five)]).discount, 500n);
  t.is(evaluate(cart([line("A", 1, 300n)]), [auto(five)]).discount, 300n);
  const usd = evaluate(cart([line("A", 1, 1200n)], { currency: "USD" }), [byCode(five, "FIVE")]);
  t.is(usd.discount, 0n);
  t.deepEqual(usd.rejected.map((r) => r.reason), ["NOT_APPLICABLE"]);
});

test("percentage and fixed amounts off matching items touch only those lines, by SKU, product or category", (t) => {
  const shoes = rule({ kind: "items_percent", items: select({ categoryIds: ["shoes"] }), bps: 2500 });
  const lines = [line("A", 2, 1000n, { categoryIds: ["clothes", "shoes"] }), line("B", 1, 1000n, { categoryIds: ["clothes"] })];
  t.deepEqual(evaluate(cart(lines), [auto(shoes)]).applied[0]!.allocations, [500n, 0n]);
  const perUnit = rule({ kind: "items_amount", items: select({ productIds: ["product-B"] }), amounts: { EUR: 300n } });
  t.deepEqual(evaluate(cart([line("A", 1, 1000n), line("B", 3, 200n)]), [auto(perUnit)]).applied[0]!.allocations, [0n, 600n]);
  const bySku = rule({ kind: "items_percent", items: select({ skus: ["A"] }), bps: 10_000 });
  t.deepEqual(evaluate(cart([line("A", 1, 1000n), line("B", 1, 200n)]), [auto(bySku)]).applied[0]!.allocations, [1000n, 0n]);
});

test("free shipping waives the given shipping price, for all options or only the named ones", (t) => {
  const all = rule({ kind: "free_shipping", optionIds: [] });
  const result = evaluate(cart([line("A", 1, 1000n)], { shipping: { optionId: "express", price: 1399n } }), [auto(all)]);
  t.is(result.shippingDiscount, 1399n);
  t.is(result.discount, 0n);
  const standardOnly = rule({ kind: "free_shipping", optionIds: ["standard"] });
  const express = evaluate(cart([line("A", 1, 1000n)], { shipping: { optionId: "express", price: 1399n }, codes: ["SHIP"] }), [byCode(standardOnly, "SHIP")]);
  t.is(express.shippingDiscount, 0n);
  t.deepEqual(express.rejected.map((r) => r.reason), ["NOT_APPLICABLE"]);
  // Before an option is chosen it applies with nothing off yet.
  t.is(evaluate(cart([line("A", 1, 1000n)]), [auto(standardOnly)]).applied.length, 1);
});

test("free shipping over a threshold applies once the subtotal reaches it", (t) => {
  const over = rule({ kind: "free_shipping", optionIds: [] }, { conditions: { everything: false, minimumSubtotal: { EUR: 5000n } } });
  const shipping = { optionId: "standard", price: 549n };
  t.is(evaluate(cart([line("A", 1, 4999n)], { shipping }), [auto(over)]).shippingDiscount, 0n);
  t.is(evaluate(cart([line("A", 1, 5000n)], { shipping }), [auto(over)]).shippingDiscount, 549n);
});

test("buy 2 get 1 makes the cheapest of every three matching units free", (t) => {
  const b2g1 = rule({ kind: "buy_x_get_y", buy: select({ categoryIds: ["socks"] }), buyQuantity: 2, getQuantity: 1, bps: 10_000, maxRewards: 0 });
  const socks = (sku: string, quantity: number, price: bigint) => line(sku, quantity, price, { categoryIds: ["socks"] });
  // 3 units: the 500 one free.
  t.deepEqual(evaluate(cart([socks("A", 2, 900n), socks("B", 1, 500n)]), [auto(b2g1)]).applied[0]!.allocations, [0n, 500n]);
  // 2 units: no reward, so it does not apply (a code would say so).
  const two = evaluate(cart([socks("A", 2, 900n)], { codes: ["B2G1"] }), [byCode(b2g1, "B2G1")]);
  t.is(two.discount, 0n);
  t.deepEqual(two.rejected.map((r) => r.reason), ["NOT_APPLICABLE"]);
  // 7 units → two rewards: the two cheapest units.
  t.deepEqual(evaluate(cart([socks("A", 4, 900n), socks("B", 1, 500n), socks("C", 2, 700n)]), [auto(b2g1)]).applied[0]!.allocations, [0n, 500n, 700n]);
  // Lines outside the category neither count nor get discounted.
  t.deepEqual(evaluate(cart([socks("A", 2, 900n), line("X", 5, 100n)]), [auto(b2g1)]).discount, 0n);
});

test("buy X get Y with another get selector, a partial discount and a reward cap", (t) => {
  const action: Action = { kind: "buy_x_get_y", buy: select({ skus: ["SHOE"] }), buyQuantity: 1, get: select({ skus: ["SOCK"] }), getQuantity: 1, bps: 5000, maxRewards: 2 };
  const result = evaluate(cart([line("SHOE", 3, 5000n), line("SOCK", 5, 300n)]), [auto(rule(action))]);
  // Three shoes would earn three half-price socks; the cap is two.
  t.deepEqual(result.applied[0]!.allocations, [0n, 300n]);
});

test("conditions: minimum subtotal per currency, items with a minimum quantity, signed-in, first order, roles, currency, window", (t) => {
  const cases: Array<[Partial<Conditions>, Partial<CartInput>, string | undefined]> = [
    [{ minimumSubtotal: { EUR: 2001n } }, {}, "MINIMUM_NOT_REACHED"],
    [{ minimumSubtotal: { USD: 999_999n } }, {}, undefined],
    [{ items: select({ skus: ["A"] }), minimumQuantity: 3 }, {}, "NOT_APPLICABLE"],
    [{ items: select({ skus: ["A"] }), minimumQuantity: 2 }, {}, undefined],
    [{ signedInOnly: true }, {}, "NOT_FOR_CUSTOMER"],
    [{ signedInOnly: true }, { customer: { id: "u1", roles: [], hasOrdered: false } }, undefined],
    [{ firstOrderOnly: true }, { customer: { id: "u1", roles: [], hasOrdered: true } }, "NOT_FOR_CUSTOMER"],
    [{ firstOrderOnly: true }, { customer: { id: "u1", roles: [], hasOrdered: false } }, undefined],
    [{ customerRoles: ["vip"] }, { customer: { id: "u1", roles: ["customer"], hasOrdered: false } }, "NOT_FOR_CUSTOMER"],
    [{ customerRoles: ["vip"] }, { customer: { id: "u1", roles: ["customer", "vip"], hasOrdered: false } }, undefined],
    [{ currencies: ["USD"] }, {}, "NOT_APPLICABLE"],
  ];
  for (const [conditions, extra, expected] of cases) {
    const r = rule(percent(1000), { conditions: { everything: false, ...conditions } });
    const result = evaluate(cart([line("A", 2, 1000n)], { codes: ["C"], ...extra }), [byCode(r, "C")]);
    t.deepEqual(result.rejected.map((x) => x.reason), expected ? [expected] : [], Object.keys(conditions).join(","));
    t.is(result.applied.length, expected ? 0 : 1);
  }
  const window = (startsAt?: Date, endsAt?: Date) => evaluate(cart([line("A", 1, 1000n)], { codes: ["W"] }), [byCode(rule(percent(1000), { ...(startsAt ? { startsAt } : {}), ...(endsAt ? { endsAt } : {}) }), "W")]).rejected.map((r) => r.reason);
  t.deepEqual(window(new Date(now.getTime() + 1)), ["NOT_STARTED"]);
  t.deepEqual(window(undefined, now), ["EXPIRED"]);
  t.deepEqual(window(new Date(now.getTime() - 1), new Date(now.getTime() + 1)), []);
});

test("codes get clear reasons: unknown, paused, archived, limit reached, budget too small", (t) => {
  const lines = [line("A", 1, 1000n)];
  const r = rule(percent(1000));
  const reasons = (candidates: Candidate[], codes: string[]) => evaluate(cart(lines, { codes }), candidates).rejected.map((x) => [x.code, x.reason]);
  t.deepEqual(reasons([], ["NOPE"]), [["NOPE", "UNKNOWN"]]);
  t.deepEqual(reasons([byCode({ ...r, state: "paused" }, "P")], ["P"]), [["P", "PAUSED"]]);
  t.deepEqual(reasons([byCode({ ...r, state: "archived" }, "X")], ["X"]), [["X", "EXPIRED"]]);
  t.deepEqual(reasons([byCode(r, "L", { limitReached: true })], ["L"]), [["L", "LIMIT_REACHED"]]);
  t.deepEqual(reasons([byCode(r, "B", { budgetLeft: 99n })], ["B"]), [["B", "LIMIT_REACHED"]]);
  t.deepEqual(reasons([byCode(r, "B", { budgetLeft: 100n })], ["B"]), []);
  t.truthy(evaluate(cart(lines, { codes: ["NOPE"] }), []).rejected[0]!.message);
});

test("stacking: combinable promotions apply by priority, each on what the one before left", (t) => {
  const first = rule(percent(5000), { priority: 10 });
  const second = rule({ kind: "order_amount", amounts: { EUR: 300n } }, { priority: 5 });
  const result = evaluate(cart([line("A", 1, 1000n)]), [auto(second), auto(first)]);
  t.deepEqual(result.applied.map((a) => [a.promotionId, a.amount]), [[first.id, 500n], [second.id, 300n]]);
  // Reversed priorities: 300 off first, then 50 % of 700.
  const swapped = evaluate(cart([line("A", 1, 1000n)]), [auto({ ...first, priority: 1 }), auto(second)]);
  t.deepEqual(swapped.applied.map((a) => a.amount), [300n, 350n]);
});

test("stacking: an exclusive promotion first by priority applies alone; one after a combinable one is refused", (t) => {
  const exclusive = rule(percent(2000), { stacking: "exclusive", priority: 10 });
  const combinable = rule(percent(1000), { priority: 5 });
  const alone = evaluate(cart([line("A", 1, 1000n)], { codes: ["TEN"] }), [auto(exclusive), byCode(combinable, "TEN")]);
  t.deepEqual(alone.applied.map((a) => a.promotionId), [exclusive.id]);
  t.deepEqual(alone.rejected.map((r) => [r.code, r.reason]), [["TEN", "NOT_COMBINABLE"]]);
  const after = evaluate(cart([line("A", 1, 1000n)], { codes: ["EXCL"] }), [byCode({ ...exclusive, priority: 1 }, "EXCL"), auto(combinable)]);
  t.deepEqual(after.applied.map((a) => a.promotionId), [combinable.id]);
  t.deepEqual(after.rejected.map((r) => r.reason), ["NOT_COMBINABLE"]);
  // An exclusive promotion whose conditions fail does not block the others.
  const failing = rule(percent(9000), { stacking: "exclusive", priority: 99, conditions: { everything: false, minimumSubtotal: { EUR: 1_000_000n } } });
  t.deepEqual(evaluate(cart([line("A", 1, 1000n)]), [auto(failing), auto(combinable)]).applied.map((a) => a.promotionId), [combinable.id]);
});

test("equal priorities are ordered by creation, then id: the result never depends on the candidates' order", (t) => {
  const a = rule({ kind: "order_amount", amounts: { EUR: 700n } });
  const b = rule(percent(5000));
  const c = rule(percent(3333), { createdAt: a.createdAt, id: "00000000-0000-7000-8000-ffffffffffff" });
  const input = cart([line("A", 3, 333n), line("B", 1, 1001n), line("C", 7, 17n)]);
  const reference = evaluate(input, [auto(a), auto(b), auto(c)]);
  for (const order of [[b, c, a], [c, a, b], [b, a, c]]) t.deepEqual(evaluate(input, order.map((r) => auto(r))), reference);
  t.deepEqual(reference.applied.map((x) => x.promotionId), [a.id, c.id, b.id]);
});

test("however many promotions stack, no line, shipping or order goes below zero and every allocation sums to its amount", (t) => {
  const candidates = [
    auto(rule(percent(9000), { priority: 3 })),
    auto(rule({ kind: "order_amount", amounts: { EUR: 100_000n } }, { priority: 2 })),
    auto(rule({ kind: "items_amount", items: select({}), amounts: { EUR: 999n } }, { priority: 1 })),
    auto(rule({ kind: "free_shipping", optionIds: [] })),
    auto(rule({ kind: "free_shipping", optionIds: [] })),
  ];
  const lines = [line("A", 3, 333n), line("B", 1, 1001n)];
  const result = evaluate(cart(lines, { shipping: { optionId: "standard", price: 599n } }), candidates);
  const perLine = lines.map((_, i) => result.applied.reduce((sum, a) => sum + a.allocations[i]!, 0n));
  t.deepEqual(perLine, [999n, 1001n]);
  t.is(result.discount, 2000n);
  t.is(result.shippingDiscount, 599n);
  for (const a of result.applied) t.is(a.allocations.reduce((x, y) => x + y, 0n), a.amount);
});

test("the same promotion named by two codes applies once; rejections follow the order the codes were entered", (t) => {
  const r = rule(percent(1000));
  const result = evaluate(cart([line("A", 1, 1000n)], { codes: ["ZZZ", "ONE", "TWO"] }), [byCode(r, "ONE"), byCode(r, "TWO")]);
  t.is(result.applied.length, 1);
  t.deepEqual(result.rejected.map((x) => [x.code, x.reason]), [["ZZZ", "UNKNOWN"], ["TWO", "NOT_COMBINABLE"]]);
});
