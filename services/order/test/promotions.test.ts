// Checkout with promotions through the whole mesh: the saga redeems the order's promotions first, so a
// limit reached between cart and checkout rejects the order with that reason before any stock is held
// or money moved; limits hold under 200 concurrent checkouts; a rejected or cancelled order gives its
// redemption back; per-customer and first-order limits hold at checkout.
import test from "ava";
import { randomBytes, randomUUID } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { OrderFailureReason, OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { PromotionSchema } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { Code, failure, guestCart, meshPerFile, placeRequest, sellable, stockOf, userCart, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test);

const newCode = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex").toUpperCase()}`;

async function promotion(m: Mesh, spec: MessageInitShape<typeof PromotionSchema>) {
  const base: MessageInitShape<typeof PromotionSchema> = { name: "10 % off", conditions: { everything: true }, action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } } };
  return (await m.promotionAdmin.createPromotion({ promotion: create(PromotionSchema, { ...base, ...spec } as MessageInitShape<typeof PromotionSchema>) })).promotion!;
}

/** A guest cart of one unit of `sku` with `code` applied (the cart shows its discount). */
async function cartWithCode(m: Mesh, sku: string, code: string) {
  const cart = await guestCart(m, [{ sku, quantity: 1 }]);
  const { cart: priced } = await m.carts.guest(cart.token).applyPromotionCode({ cartId: cart.cartId, code });
  if (priced!.totals!.promotions.length !== 1) throw new Error(`the code ${code} did not apply`);
  return cart;
}

/** `count` carts, `parallel` at a time. */
async function carts(count: number, parallel: number, make: () => Promise<{ cartId: string; token: string }>) {
  const made: Array<{ cartId: string; token: string }> = [];
  for (let i = 0; i < count; i += parallel) made.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, make))));
  return made;
}

async function checkoutAll(m: Mesh, all: Array<{ cartId: string; token: string }>, email = () => `buyer-${randomUUID()}@example.com`) {
  return Promise.all(
    all.map(async ({ cartId, token }) => {
      try {
        const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId, { email: email() }));
        return { order, refusal: undefined };
      } catch (error) {
        return { order: undefined, refusal: await failure(Promise.reject(error)) };
      }
    }),
  );
}

const countOf = async (m: Mesh, promotionId: string) => (await m.promotionAdmin.getPromotion({ promotionId })).promotion!.redemptionCount;

for (const limit of ["usage limit", "budget"] as const) {
  test.serial(`200 concurrent checkouts with a code whose ${limit} allows 50: exactly 50 discounted orders, 150 refused with the reason, nothing charged and no stock held for them`, async (t) => {
    // 200 carts and 200 checkouts through the whole mesh: past ava's 2 minutes when the machine is busy.
    t.timeout(5 * 60_000);
    const m = mesh();
    const sku = await sellable(m, { price: 1000, stock: 500 });
    const code = newCode("FIFTY");
    const p = await promotion(m, { code, ...(limit === "usage limit" ? { usageLimit: 50n } : { budget: { amountMinor: 50n * 100n, currencyCode: "USD" } }) });
    const all = await carts(200, 20, () => cartWithCode(m, sku, code));
    const outcomes = await checkoutAll(m, all);

    const confirmed = outcomes.filter((o) => o.order);
    t.is(confirmed.length, 50);
    t.true(confirmed.every((o) => o.order!.status === OrderStatus.CONFIRMED && o.order!.totals?.discount?.amountMinor === 100n));
    const refused = outcomes.filter((o) => o.refusal);
    t.is(refused.length, 150);
    // Refused when the cart is priced for checkout (the code no longer applies), or by the saga's
    // redemption step when the limit was reached in between (the order is then REJECTED).
    const reasons = limit === "usage limit" ? ["PROMOTION_LIMIT_REACHED"] : ["PROMOTION_LIMIT_REACHED", "PROMOTION_BUDGET_EXHAUSTED"];
    t.true(refused.every((o) => o.refusal!.code === Code.FailedPrecondition && reasons.includes(o.refusal!.reason!)), JSON.stringify(refused.map((o) => o.refusal!.reason)));
    t.is(await countOf(m, p.id), 50n);

    const orders = await m.sql<{ id: string; status: string; failure_reason: string | null }>("order", "select id, status, failure_reason from orders where cart_id = any($1::uuid[])", [all.map((c) => c.cartId)]);
    const rejected = orders.filter((o) => o.status === "REJECTED");
    t.is(orders.length - rejected.length, 50);
    t.true(rejected.every((r) => reasons.includes(r.failure_reason!)));
    const [{ n: paid }] = await m.sql<{ n: string }>("payment", "select count(*) as n from payment where order_id = any($1::uuid[])", [orders.map((o) => o.id)]) as [{ n: string }];
    t.is(paid, "50", "no payment for a refused checkout");
    t.deepEqual(await stockOf(m, sku), { onHand: 450, reserved: 0 }, "only the 50 confirmed orders took stock");
  });
}

test("a rejected order gives its redemption back: the count returns", async (t) => {
  const m = mesh();
  const sku = await sellable(m);
  const code = newCode("DECLINE");
  const p = await promotion(m, { code, usageLimit: 1n });
  const cart = await cartWithCode(m, sku, code);
  const declined = await failure(m.orders.guest(cart.token).placeOrder(placeRequest(cart.cartId, { paymentMethod: "pm_test_declined" })));
  t.is(declined.reason, "PAYMENT_DECLINED");
  t.is(await countOf(m, p.id), 0n);
  // So another buyer may use the one redemption.
  const next = await cartWithCode(m, sku, code);
  const { order } = await m.orders.guest(next.token).placeOrder(placeRequest(next.cartId));
  t.is(order!.totals?.discount?.amountMinor, 100n);
  t.is(await countOf(m, p.id), 1n);
});

test("a cancelled order gives its redemption back", async (t) => {
  const m = mesh();
  const sku = await sellable(m);
  const code = newCode("CANCEL");
  const p = await promotion(m, { code });
  const userId = randomUUID();
  const cartId = await userCart(m, userId, [{ sku, quantity: 2 }]);
  const cartClient = await m.carts.user(userId);
  await cartClient.applyPromotionCode({ cartId, code });
  const client = await m.orders.user(userId);
  const { order } = await client.placeOrder(placeRequest(cartId));
  t.is(order!.totals?.discount?.amountMinor, 200n);
  t.deepEqual(order!.lines.map((l) => [l.sku, l.discount?.amountMinor]), [[sku, 200n]], "each line's share of the discount is kept");
  t.is(await countOf(m, p.id), 1n);
  await client.cancelOrder({ orderId: order!.id, reason: "changed my mind" });
  t.is(await countOf(m, p.id), 0n);
  const { redemptions } = await m.promotionAdmin.listPromotionRedemptions({ promotionId: p.id });
  t.deepEqual(redemptions.map((r) => [r.orderId, r.released]), [[order!.id, true]]);
});

test("per customer: two concurrent guest checkouts with one email and a code allowed once per customer: one discounted, one refused", async (t) => {
  const m = mesh();
  const sku = await sellable(m);
  const code = newCode("ONCEEACH");
  await promotion(m, { code, perCustomerLimit: 1 });
  const both = await carts(2, 2, () => cartWithCode(m, sku, code));
  const email = `same-${randomUUID()}@example.com`;
  const outcomes = await checkoutAll(m, both, () => email);
  t.is(outcomes.filter((o) => o.order).length, 1);
  t.deepEqual(outcomes.filter((o) => o.refusal).map((o) => o.refusal!.reason), ["PROMOTION_CUSTOMER_LIMIT_REACHED"]);
  const [rejected] = await m.sql<{ failure_reason: string }>("order", "select failure_reason from orders where cart_id = any($1::uuid[]) and status = 'REJECTED'", [both.map((c) => c.cartId)]);
  t.is(rejected!.failure_reason, "PROMOTION_CUSTOMER_LIMIT_REACHED");
  const orderId = outcomes.find((o) => o.refusal)!.refusal!.message.match(/order ([0-9a-f-]{36})/)?.[1];
  if (orderId) t.is((await m.orders.admin.getOrder({ orderId })).order!.failureReason, OrderFailureReason.PROMOTION_CUSTOMER_LIMIT_REACHED);
});

test("first order only: a customer's first order gets the welcome discount, the next one does not", async (t) => {
  const m = mesh();
  const sku = await sellable(m, { price: 2000 });
  await promotion(m, {
    automatic: true,
    name: "Welcome: 20 % off your first order",
    conditions: { firstOrderOnly: true, items: { skus: [sku] } },
    action: { kind: { case: "orderPercentOff", value: { percentBps: 2000 } } },
  });
  const userId = randomUUID();
  const client = await m.orders.user(userId);
  const first = await userCart(m, userId, [{ sku, quantity: 1 }]);
  const { order } = await client.placeOrder(placeRequest(first));
  t.is(order!.totals?.discount?.amountMinor, 400n);
  const second = await userCart(m, userId, [{ sku, quantity: 1 }]);
  const { cart } = await (await m.carts.user(userId)).getCart({ cartId: second });
  t.is(cart!.totals!.promotions.length, 0, "the cart no longer offers it");
  const { order: again } = await client.placeOrder(placeRequest(second));
  t.is(again!.totals?.discount?.amountMinor, 0n);
});
