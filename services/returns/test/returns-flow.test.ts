// The whole flow against the real mesh, stock and money checked at each step: a guest returns part of
// a delivered order over two requests; staff approve, receive (resellable units restocked as RETURNED
// movements, damaged ones not) and refund exactly what the units cost; the order shows
// PARTIALLY_REFUNDED, then REFUNDED once everything came back; with a discounted, taxed order each unit
// refunds what it cost.
import test from "ava";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { PromotionSchema } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { MovementReason } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { OrderPaymentStatus, OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { ReturnReason, ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { deliveredGuestOrder, paymentOf, returnsMeshPerFile, sellable, stockOf } from "./helpers.ts";

const returnsMesh = returnsMeshPerFile(test);

test("a guest returns a delivered order in two parts: restock of resellable units, exact refunds, the order's money state", async (t) => {
  const r = returnsMesh();
  const m = r.mesh;
  const a = await sellable(m, { price: 1000, stock: 10 });
  const b = await sellable(m, { price: 2500, stock: 10 });
  const { order, token } = await deliveredGuestOrder(m, [{ sku: a, quantity: 3 }, { sku: b, quantity: 1 }]);
  const total = order.totals!.total!.amountMinor;
  const tax = order.totals!.tax!.amountMinor;
  t.is((await stockOf(m, a)).onHand, 7);

  // First return: 2 of A, one arrives resellable, one damaged.
  const shopper = r.guest(token);
  const { return: first } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku: a, quantity: 2 }], reason: ReturnReason.CHANGED_MIND, comment: "too many" });
  t.is(first!.status, ReturnStatus.REQUESTED);
  t.is((await r.admin.approveReturn({ returnId: first!.id, note: "ok" })).return!.status, ReturnStatus.APPROVED);
  const received = (await r.admin.receiveReturn({ returnId: first!.id, lines: [{ sku: a, resellable: 1, damaged: 1 }] })).return!;
  t.is(received.status, ReturnStatus.RECEIVED);
  t.is((await stockOf(m, a)).onHand, 8, "the resellable unit is back, the damaged one is not");
  t.is(received.lines[0]!.restocked, 1, "inventory confirmed it");
  const { movements } = await m.inventoryAdmin.listStockMovements({ sku: a });
  t.is(movements[0]!.reason, MovementReason.RETURNED);
  t.is(movements[0]!.delta, 1n);

  const refunded = (await r.admin.refundReturn({ returnId: first!.id })).return!;
  t.is(refunded.status, ReturnStatus.REFUNDED);
  // Tax is spread over the lines and the shipping by what each was charged; two of three A units
  // get two thirds of A's amount (floors of the cumulative share).
  const shipping = total - tax - 3000n - 2500n;
  const base = 3000n + 2500n + shipping;
  const taxOf = (part: bigint) => (tax * part) / base;
  const lineA = 3000n + taxOf(3000n);
  const expectedFirst = (lineA * 2n) / 3n;
  // The remainder unit of tax may land on A: allow exactly that minor unit, no more.
  t.true(refunded.refunded!.amountMinor === expectedFirst || refunded.refunded!.amountMinor === ((lineA + 1n) * 2n) / 3n, `refunded ${refunded.refunded!.amountMinor}, expected about ${expectedFirst}`);
  t.deepEqual(refunded.history.map((h) => h.status), [ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED, ReturnStatus.REFUNDED]);
  let current = (await m.orders.admin.getOrder({ orderId: order.id })).order!;
  t.is(current.paymentStatus, OrderPaymentStatus.PARTIALLY_REFUNDED);
  t.is(current.refunded!.amountMinor, refunded.refunded!.amountMinor);
  t.is((await paymentOf(m, order.id))!.refunded!.amountMinor, refunded.refunded!.amountMinor);

  // Refunding again changes nothing.
  t.is((await r.admin.refundReturn({ returnId: first!.id })).return!.refunded!.amountMinor, refunded.refunded!.amountMinor);
  t.is((await paymentOf(m, order.id))!.refunded!.amountMinor, refunded.refunded!.amountMinor);

  // Second return: everything left (1 of A, 1 of B) and the shipping: the order is refunded in full.
  const { return: second } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }], reason: ReturnReason.DAMAGED });
  await r.admin.approveReturn({ returnId: second!.id });
  await r.admin.receiveReturn({ returnId: second!.id, lines: [{ sku: a, resellable: 1 }, { sku: b, resellable: 1 }] });
  t.is((await stockOf(m, b)).onHand, 10);
  const last = (await r.admin.refundReturn({ returnId: second!.id, includeShipping: true })).return!;
  t.is(last.refunded!.amountMinor + refunded.refunded!.amountMinor, total, "the two returns refund exactly what was paid");
  current = (await m.orders.admin.getOrder({ orderId: order.id })).order!;
  t.is(current.paymentStatus, OrderPaymentStatus.REFUNDED);
  t.is(current.status, OrderStatus.REFUNDED);
  t.is((await paymentOf(m, order.id))!.refunded!.amountMinor, total);

  const { returns: listed } = await shopper.listOrderReturns({ orderId: order.id });
  t.deepEqual(listed.map((x) => x.id), [first!.id, second!.id]);
});

test("a discounted, taxed order: each unit refunds its line's price after the allocated discount plus its tax, to the minor unit", async (t) => {
  const r = returnsMesh();
  const m = r.mesh;
  const a = await sellable(m, { price: 999, stock: 10 });
  const b = await sellable(m, { price: 1499, stock: 10 });
  await m.promotionAdmin.createPromotion({
    promotion: create(PromotionSchema, {
      name: "10 % off",
      automatic: true,
      conditions: { items: { skus: [a, b] } },
      action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } },
    } as MessageInitShape<typeof PromotionSchema>),
  });
  const { order, token } = await deliveredGuestOrder(m, [{ sku: a, quantity: 3 }, { sku: b, quantity: 2 }]);
  const lineA = order.lines.find((line) => line.sku === a)!;
  t.true(lineA.discount!.amountMinor > 0n, "the promotion discounted the line");
  t.true(order.totals!.tax!.amountMinor > 0n, "the order is taxed");
  const netA = lineA.lineTotal!.amountMinor - lineA.discount!.amountMinor;
  const rate = BigInt(order.totals!.taxRateBps);

  const shopper = r.guest(token);
  const refundUnits = async (quantity: number) => {
    const { return: requested } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku: a, quantity }], reason: ReturnReason.NOT_AS_DESCRIBED });
    await r.admin.approveReturn({ returnId: requested!.id });
    await r.admin.receiveReturn({ returnId: requested!.id, lines: [{ sku: a, resellable: quantity }] });
    return (await r.admin.refundReturn({ returnId: requested!.id })).return!.refunded!.amountMinor;
  };
  const one = await refundUnits(1);
  const two = await refundUnits(2);
  const paidForA = one + two;
  // The line's share of the order's tax is its own tax to within the one minor unit of rounding.
  const ownTax = (netA * rate + 5000n) / 10000n;
  t.true(paidForA - netA >= ownTax - 1n && paidForA - netA <= ownTax + 1n, `line A refunded ${paidForA}: net ${netA} + tax ${paidForA - netA}, its own tax ${ownTax}`);
  // Units differ by at most one minor unit (the floors of the cumulative share).
  t.true(two - 2n * one >= 0n && two - 2n * one <= 2n, `one unit ${one}, two units ${two}`);
  const current = (await m.orders.admin.getOrder({ orderId: order.id })).order!;
  t.is(current.refunded!.amountMinor, paidForA);
  t.is((await paymentOf(m, order.id))!.refunded!.amountMinor, paidForA);
});
