// Evaluation and redemption against the real database: the reasons a code gets, limits that hold
// under 200 concurrent redemptions (total, budget), per-customer and first-order limits, single-use
// codes, a redelivered step that counts once, and a release that gives the count back.
import test from "ava";
import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { PromotionRedeemedSchema, PromotionRedemptionReleasedSchema } from "@bazaar/contracts/bazaar/promotion/v1/events_pb";
import { CodeRejection } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { publishEvent } from "@bazaar/platform/testing";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { create } from "@bufbuild/protobuf";
import { eur, eventually, failure, line, newCode, outboxEvents, promotionSpec, startPromotion, type Harness } from "./helpers.ts";

let h: Harness;
test.before(async () => {
  h = await startPromotion({ followOrders: true });
});
test.after.always(async () => {
  await h?.stop();
});

const redeem = (promotionId: string, code: string, amount: bigint, orderId = randomUUID(), customerId = "") =>
  h.saga.redeemPromotions({ orderId, customerId, redemptions: [{ promotionId, code, amount: eur(amount) }] });

const countOf = async (promotionId: string) => (await h.admin.getPromotion({ promotionId })).promotion!.redemptionCount;

test("EvaluateCart applies a code with its label, amount and per-line allocation, and says why other codes do not apply", async (t) => {
  const code = newCode("TEN");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code, name: "Ten off" }) });
  const minimum = newCode("MIN");
  await h.admin.createPromotion({ promotion: promotionSpec({ code: minimum, conditions: { minimumSubtotal: [eur(1_000_000n)] } }) });
  const future = newCode("SOON");
  await h.admin.createPromotion({ promotion: promotionSpec({ code: future, startTime: { seconds: BigInt(Math.floor(Date.now() / 1000) + 3600) } }) });
  const past = newCode("OLD");
  await h.admin.createPromotion({ promotion: promotionSpec({ code: past, endTime: { seconds: BigInt(Math.floor(Date.now() / 1000) - 60) } }) });
  const members = newCode("VIP");
  await h.admin.createPromotion({ promotion: promotionSpec({ code: members, conditions: { signedInOnly: true } }) });

  const result = await h.cart.evaluateCart({
    currencyCode: "EUR",
    lines: [line("SKU-A", 1, 3333n), line("SKU-B", 2, 3333n)],
    codes: [code.toLowerCase(), "NO-SUCH-CODE", minimum, future, past, members],
  });
  t.is(result.applied.length, 1);
  const [applied] = result.applied;
  t.deepEqual([applied!.promotionId, applied!.code, applied!.label, applied!.amount?.amountMinor], [promotion!.id, code, "Ten off", 1000n]);
  t.deepEqual(applied!.allocations.map((a) => [a.sku, a.amount]), [["SKU-A", 333n], ["SKU-B", 667n]]);
  t.deepEqual(
    result.rejectedCodes.map((r) => [r.code, r.reason]),
    [
      ["NO-SUCH-CODE", CodeRejection.UNKNOWN],
      [minimum, CodeRejection.MINIMUM_NOT_REACHED],
      [future, CodeRejection.NOT_STARTED],
      [past, CodeRejection.EXPIRED],
      [members, CodeRejection.NOT_FOR_CUSTOMER],
    ],
  );
  t.true(result.rejectedCodes.every((r) => r.message.length > 0));
  // The same cart evaluates to the same result.
  const again = await h.cart.evaluateCart({ currencyCode: "EUR", lines: [line("SKU-A", 1, 3333n), line("SKU-B", 2, 3333n)], codes: [code] });
  t.deepEqual(again.applied[0]!.allocations.map((a) => a.amount), [333n, 667n]);
});

test("200 concurrent redemptions of a code limited to 50: exactly 50 pass, 150 are refused with PROMOTION_LIMIT_REACHED", async (t) => {
  const code = newCode("FIFTY");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code, usageLimit: 50n }) });
  const outcomes = await Promise.all(Array.from({ length: 200 }, () => failure(redeem(promotion!.id, code, 100n))));
  t.is(outcomes.filter((o) => o.code === undefined).length, 50);
  const refused = outcomes.filter((o) => o.code !== undefined);
  t.is(refused.length, 150);
  t.true(refused.every((o) => o.code === Code.FailedPrecondition && o.reason === "PROMOTION_LIMIT_REACHED"));
  t.is(await countOf(promotion!.id), 50n);
  t.is((await h.sql<{ n: string }>("select count(*) as n from redemption where promotion_id = $1", [promotion!.id]))[0]!.n, "50");
  const metrics = await (await fetch(`http://${h.service.address}/metrics`)).text();
  t.regex(metrics, /promotion_redemptions_total\{[^}]*outcome="PROMOTION_LIMIT_REACHED"[^}]*\} (1[5-9]\d|[2-9]\d\d)/);
  // An evaluation now says the limit is reached.
  const evaluation = await h.cart.evaluateCart({ currencyCode: "EUR", lines: [line("SKU-A", 1, 1000n)], codes: [code] });
  t.deepEqual(evaluation.rejectedCodes.map((r) => r.reason), [CodeRejection.LIMIT_REACHED]);
});

test("200 concurrent redemptions against a budget of 50 discounts: exactly 50 pass, the rest PROMOTION_BUDGET_EXHAUSTED", async (t) => {
  const code = newCode("BUDGET");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code, budget: eur(50n * 999n) }) });
  const outcomes = await Promise.all(Array.from({ length: 200 }, () => failure(redeem(promotion!.id, code, 999n))));
  t.is(outcomes.filter((o) => o.code === undefined).length, 50);
  t.true(outcomes.filter((o) => o.code !== undefined).every((o) => o.reason === "PROMOTION_BUDGET_EXHAUSTED"));
  const { promotion: after } = await h.admin.getPromotion({ promotionId: promotion!.id });
  t.deepEqual(after!.givenAway.map((m) => [m.amountMinor, m.currencyCode]), [[49_950n, "EUR"]]);
  t.is((await h.sql<{ budget_spent: string }>("select budget_spent from promotion where id = $1", [promotion!.id]))[0]!.budget_spent, "49950");
});

test("a redelivered redemption counts once; a release gives the count back once and publishes its event", async (t) => {
  const code = newCode("ONCE");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code, usageLimit: 5n }) });
  const orderId = randomUUID();
  const first = await redeem(promotion!.id, code, 250n, orderId);
  const repeated = await Promise.all([redeem(promotion!.id, code, 250n, orderId), redeem(promotion!.id, code, 250n, orderId)]);
  t.is(await countOf(promotion!.id), 1n);
  t.deepEqual(repeated.map((r) => r.redemptions[0]!.id), [first.redemptions[0]!.id, first.redemptions[0]!.id]);
  t.is((await outboxEvents(h, PromotionRedeemedSchema)).filter((e) => e.orderId === orderId).length, 1);

  t.is((await h.saga.releasePromotions({ orderId })).released, 1);
  t.is((await h.saga.releasePromotions({ orderId })).released, 0, "a second release gives nothing back");
  t.is(await countOf(promotion!.id), 0n);
  const released = (await outboxEvents(h, PromotionRedemptionReleasedSchema)).filter((e) => e.orderId === orderId);
  t.deepEqual(released.map((e) => e.amount?.amountMinor), [250n]);
  const { redemptions } = await h.admin.listPromotionRedemptions({ promotionId: promotion!.id });
  t.true(redemptions[0]!.released);
  // A late redelivery of the redemption step after the release does not count again.
  await redeem(promotion!.id, code, 250n, orderId);
  t.is(await countOf(promotion!.id), 0n);
});

test("per-customer limits hold per customer (guests by email); a release gives the use back", async (t) => {
  const code = newCode("TWICE");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code, perCustomerLimit: 2 }) });
  const customer = randomUUID();
  const orders = [randomUUID(), randomUUID(), randomUUID()];
  const outcomes = await Promise.all(orders.map((orderId) => failure(redeem(promotion!.id, code, 10n, orderId, customer))));
  t.is(outcomes.filter((o) => o.code === undefined).length, 2);
  t.deepEqual(outcomes.filter((o) => o.code !== undefined).map((o) => o.reason), ["PROMOTION_CUSTOMER_LIMIT_REACHED"]);
  t.is((await failure(redeem(promotion!.id, code, 10n, randomUUID(), randomUUID()))).code, undefined, "another customer still may");
  const evaluation = await h.cart.evaluateCart({ currencyCode: "EUR", lines: [line("SKU-A", 1, 1000n)], codes: [code], customerId: customer });
  t.deepEqual(evaluation.rejectedCodes.map((r) => r.reason), [CodeRejection.LIMIT_REACHED]);
  const passed = orders.filter((_, i) => outcomes[i]!.code === undefined);
  await h.saga.releasePromotions({ orderId: passed[0]! });
  t.is((await failure(redeem(promotion!.id, code, 10n, randomUUID(), customer))).code, undefined, "the released use is back");
  const guest = (orderId: string) => h.saga.redeemPromotions({ orderId, email: "Guest@Example.com", redemptions: [{ promotionId: promotion!.id, code, amount: eur(10n) }] });
  await guest(randomUUID());
  await guest(randomUUID());
  t.is((await failure(guest(randomUUID()))).reason, "PROMOTION_CUSTOMER_LIMIT_REACHED");
});

test("a first-order promotion applies only to a customer's first order: one of two concurrent orders, none after an order was placed", async (t) => {
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ automatic: true, name: "Welcome", conditions: { firstOrderOnly: true } }) });
  const customer = randomUUID();
  const cart = { currencyCode: "EUR", lines: [line("SKU-A", 1, 1000n)], customerId: customer };
  t.true((await h.cart.evaluateCart(cart)).applied.some((a) => a.promotionId === promotion!.id));
  const outcomes = await Promise.all([randomUUID(), randomUUID()].map((orderId) => failure(redeem(promotion!.id, "", 100n, orderId, customer))));
  t.deepEqual(outcomes.map((o) => o.reason ?? "ok").sort(), ["PROMOTION_NOT_FIRST_ORDER", "ok"]);
  t.false((await h.cart.evaluateCart(cart)).applied.some((a) => a.promotionId === promotion!.id));
  // A customer who ordered without any promotion (order's OrderPlaced) is not new either.
  const other = randomUUID();
  await publishEvent(OrderPlacedSchema, create(OrderPlacedSchema, { eventId: randomUUID(), orderId: randomUUID(), userId: other }));
  await eventually("the order placed to be known", async () => (await h.sql("select 1 from customer_order where customer_id = $1", [other])).length > 0);
  t.false((await h.cart.evaluateCart({ ...cart, customerId: other })).applied.some((a) => a.promotionId === promotion!.id));
  t.is((await failure(redeem(promotion!.id, "", 100n, randomUUID(), other))).reason, "PROMOTION_NOT_FIRST_ORDER");
  t.is((await failure(redeem(promotion!.id, "", 100n, randomUUID(), ""))).reason, "PROMOTION_NOT_FIRST_ORDER", "guests have no first order");
});

test("a single-use code is taken by one order; another order is refused, and a release frees it", async (t) => {
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec() });
  const { codes } = await h.admin.generatePromotionCodes({ promotionId: promotion!.id, prefix: "ONE", count: 2 });
  const [code] = codes;
  const first = randomUUID();
  await redeem(promotion!.id, code!, 100n, first);
  t.is((await failure(redeem(promotion!.id, code!, 100n))).reason, "PROMOTION_CODE_USED");
  const evaluation = await h.cart.evaluateCart({ currencyCode: "EUR", lines: [line("SKU-A", 1, 1000n)], codes: [code!.toLowerCase()] });
  t.deepEqual(evaluation.rejectedCodes.map((r) => r.reason), [CodeRejection.LIMIT_REACHED]);
  t.is((await h.admin.listPromotionCodes({ promotionId: promotion!.id })).codes.find((c) => c.code === code)!.orderId, first);
  await h.saga.releasePromotions({ orderId: first });
  t.is((await failure(redeem(promotion!.id, code!, 100n))).code, undefined);
});

test("a paused promotion is refused at redemption and its code gets PAUSED", async (t) => {
  const code = newCode("PAUSE");
  const { promotion } = await h.admin.createPromotion({ promotion: promotionSpec({ code }) });
  await h.admin.pausePromotion({ promotionId: promotion!.id, paused: true });
  t.is((await failure(redeem(promotion!.id, code, 100n))).reason, "PROMOTION_INACTIVE");
  const evaluation = await h.cart.evaluateCart({ currencyCode: "EUR", lines: [line("SKU-A", 1, 1000n)], codes: [code] });
  t.deepEqual(evaluation.rejectedCodes.map((r) => r.reason), [CodeRejection.PAUSED]);
  t.is(await countOf(promotion!.id), 0n);
});
