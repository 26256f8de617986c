// Capture, void and refund: each idempotent, each refused in states it does not belong to, refunds
// never above what was captured (the database refuses it too), and voids that stop late authorisations.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { PaymentCapturedSchema, PaymentRefundedSchema, PaymentVoidedSchema } from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { PaymentOperationKind, PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { eur, failure, newOrderId, outboxEvents, startPayment, type Harness } from "./helpers.ts";

let payment: Harness;
test.before(async () => {
  payment = await startPayment();
});
test.after.always(async () => {
  await payment?.stop();
});

async function authorized(amount: bigint, method = "pm_test_ok"): Promise<string> {
  const orderId = newOrderId();
  await payment.saga.authorizePayment({ orderId, amount: eur(amount), paymentMethod: method });
  return orderId;
}

async function captured(amount: bigint): Promise<string> {
  const orderId = await authorized(amount);
  await payment.saga.capturePayment({ orderId });
  return orderId;
}

test("capture takes the authorised amount; capturing again returns it unchanged with one gateway capture and one PaymentCaptured", async (t) => {
  const orderId = await authorized(8000n);
  const first = await payment.saga.capturePayment({ orderId });
  t.is(first.payment!.state, PaymentState.CAPTURED);
  t.is(first.payment!.captured!.amountMinor, 8000n);
  const second = await payment.saga.capturePayment({ orderId });
  t.is(second.payment!.state, PaymentState.CAPTURED);
  t.is(second.payment!.updateTime!.nanos, first.payment!.updateTime!.nanos);
  t.is(payment.gatewayCalls("capture", `order:${orderId}:capture`), 1);
  t.deepEqual(second.payment!.operations.map((o) => o.kind), [PaymentOperationKind.AUTHORIZE, PaymentOperationKind.CAPTURE]);
  const events = await outboxEvents(payment, PaymentCapturedSchema, orderId);
  t.is(events.length, 1);
  t.is(events[0]!.amount?.amountMinor, 8000n);
  t.is(events[0]!.paymentId, first.payment!.id);
});

test("capture is not_found without a payment and failed_precondition for a failed or voided one", async (t) => {
  const none = await failure(payment.saga.capturePayment({ orderId: newOrderId() }));
  t.is(none.code, Code.NotFound);

  const declined = newOrderId();
  await failure(payment.saga.authorizePayment({ orderId: declined, amount: eur(100n), paymentMethod: "pm_test_declined" }));
  const ofFailed = await failure(payment.saga.capturePayment({ orderId: declined }));
  t.is(ofFailed.code, Code.FailedPrecondition);
  t.is(ofFailed.reason, "PAYMENT_NOT_AUTHORIZED");

  const voided = await authorized(100n);
  await payment.saga.voidPayment({ orderId: voided });
  t.is((await failure(payment.saga.capturePayment({ orderId: voided }))).code, Code.FailedPrecondition);
  t.is(payment.gatewayCalls("capture", `order:${voided}:capture`), 0);
});

test("a partial refund, then the rest: PARTIALLY_REFUNDED then REFUNDED, with PaymentRefunded carrying each amount and the total", async (t) => {
  const orderId = await captured(10_000n);
  const part = await payment.saga.refundPayment({ orderId, refundId: "rma-1", amount: eur(2_500n), reason: "one item returned" });
  t.is(part.payment!.state, PaymentState.PARTIALLY_REFUNDED);
  t.is(part.payment!.refunded!.amountMinor, 2_500n);
  t.is(part.refund!.kind, PaymentOperationKind.REFUND);
  t.is(part.refund!.refundId, "rma-1");
  t.regex(part.refund!.gatewayReference, /^test_re_/);
  const rest = await payment.saga.refundPayment({ orderId, refundId: "rma-2", amount: eur(7_500n) });
  t.is(rest.payment!.state, PaymentState.REFUNDED);
  t.is(rest.payment!.refunded!.amountMinor, 10_000n);
  const events = await outboxEvents(payment, PaymentRefundedSchema, orderId);
  t.deepEqual(
    events.map((e) => [e.refundId, e.amount?.amountMinor, e.totalRefunded?.amountMinor, e.amount?.currencyCode]),
    [
      ["rma-1", 2_500n, 2_500n, "EUR"],
      ["rma-2", 7_500n, 10_000n, "EUR"],
    ],
  );
});

test("a refund above what remains refundable is failed_precondition REFUND_EXCEEDS_CAPTURED and changes nothing", async (t) => {
  const orderId = await captured(1_000n);
  await payment.saga.refundPayment({ orderId, refundId: "r-1", amount: eur(600n) });
  const error = await failure(payment.saga.refundPayment({ orderId, refundId: "r-2", amount: eur(401n) }));
  t.is(error.code, Code.FailedPrecondition);
  t.is(error.reason, "REFUND_EXCEEDS_CAPTURED");
  const { payment: p } = await payment.admin.getPayment({ orderId });
  t.is(p!.refunded!.amountMinor, 600n);
  t.is(payment.gatewayCalls("refund", `refund:${orderId}:r-2`), 0);
  // Exactly what remains is fine.
  t.is((await payment.saga.refundPayment({ orderId, refundId: "r-3", amount: eur(400n) })).payment!.state, PaymentState.REFUNDED);
});

test("nothing captured yet means nothing to refund: REFUND_EXCEEDS_CAPTURED", async (t) => {
  const orderId = await authorized(1_000n);
  const error = await failure(payment.saga.refundPayment({ orderId, refundId: "early", amount: eur(1n) }));
  t.is(error.code, Code.FailedPrecondition);
  t.is(error.reason, "REFUND_EXCEEDS_CAPTURED");
});

test("the same refund id twice refunds once; reused with another amount it is already_exists", async (t) => {
  const orderId = await captured(5_000n);
  const first = await payment.saga.refundPayment({ orderId, refundId: "same", amount: eur(1_000n) });
  const again = await payment.saga.refundPayment({ orderId, refundId: "same", amount: eur(1_000n) });
  t.is(again.refund!.id, first.refund!.id);
  t.is(again.payment!.refunded!.amountMinor, 1_000n);
  t.is(payment.gatewayCalls("refund", `refund:${orderId}:same`), 1);
  t.is((await outboxEvents(payment, PaymentRefundedSchema, orderId)).length, 1);
  const reused = await failure(payment.saga.refundPayment({ orderId, refundId: "same", amount: eur(2_000n) }));
  t.is(reused.code, Code.AlreadyExists);
  t.is(reused.reason, "REFUND_ID_IN_USE");
});

test("a refund in another currency is invalid_argument naming amount.currency_code", async (t) => {
  const orderId = await captured(5_000n);
  const error = await failure(payment.saga.refundPayment({ orderId, refundId: "usd", amount: { amountMinor: 100n, currencyCode: "USD" } }));
  t.is(error.code, Code.InvalidArgument);
  t.deepEqual(error.fields, ["amount.currency_code"]);
});

test("the database itself refuses to refund more than was captured or capture more than was authorised", async (t) => {
  const orderId = await captured(1_000n);
  await t.throwsAsync(payment.sql("update payment set refunded = 1001, state = 'refunded' where order_id = $1", [orderId]), { message: /check constraint/ });
  await t.throwsAsync(payment.sql("update payment set captured = 1001 where order_id = $1", [orderId]), { message: /check constraint/ });
  await t.throwsAsync(payment.sql("update payment set refunded = -1 where order_id = $1", [orderId]), { message: /check constraint/ });
});

test("voiding an authorisation records VOIDED with PaymentVoided; voiding again returns it unchanged", async (t) => {
  const orderId = await authorized(3_000n);
  const first = await payment.saga.voidPayment({ orderId });
  t.is(first.payment!.state, PaymentState.VOIDED);
  const second = await payment.saga.voidPayment({ orderId });
  t.is(second.payment!.state, PaymentState.VOIDED);
  t.is(payment.gatewayCalls("void", `order:${orderId}:void`), 1);
  const events = await outboxEvents(payment, PaymentVoidedSchema, orderId);
  t.is(events.length, 1);
  t.is(events[0]!.paymentId, first.payment!.id);
  const [charge] = await payment.sql<{ voided: boolean }>("select voided from test_gateway_charge where idempotency_key = $1", [`order:${orderId}:authorize`]);
  t.true(charge!.voided);
});

test("a captured payment is not voided: failed_precondition PAYMENT_CAPTURED; a failed one is returned as it is", async (t) => {
  const orderId = await captured(3_000n);
  const error = await failure(payment.saga.voidPayment({ orderId }));
  t.is(error.code, Code.FailedPrecondition);
  t.is(error.reason, "PAYMENT_CAPTURED");

  const declined = newOrderId();
  await failure(payment.saga.authorizePayment({ orderId: declined, amount: eur(100n), paymentMethod: "pm_test_declined" }));
  t.is((await payment.saga.voidPayment({ orderId: declined })).payment!.state, PaymentState.FAILED);
});

test("voiding an order that has no payment records a void, and a late authorisation is refused with PAYMENT_VOIDED", async (t) => {
  const orderId = newOrderId();
  const { payment: p } = await payment.saga.voidPayment({ orderId });
  t.is(p!.state, PaymentState.VOIDED);
  t.is(p!.amount!.amountMinor, 0n);
  t.is((await outboxEvents(payment, PaymentVoidedSchema, orderId)).length, 1);
  const late = await failure(payment.saga.authorizePayment({ orderId, amount: eur(4_000n), paymentMethod: "pm_test_ok" }));
  t.is(late.code, Code.FailedPrecondition);
  t.is(late.reason, "PAYMENT_VOIDED");
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 0);
});

test("voiding a PENDING payment voids at the gateway by the authorisation's key, so nothing can be authorised for it later", async (t) => {
  const orderId = newOrderId();
  t.is((await failure(payment.saga.authorizePayment({ orderId, amount: eur(700n), paymentMethod: "pm_test_network_error" }))).code, Code.Unavailable);
  const { payment: p } = await payment.saga.voidPayment({ orderId });
  t.is(p!.state, PaymentState.VOIDED);
  t.is(payment.gatewayCalls("void", `order:${orderId}:void`), 1);
  // The gateway knows the key now: a late call with it would be declined, not charged.
  const [tombstone] = await payment.sql<{ outcome: string; voided: boolean }>("select outcome, voided from test_gateway_charge where idempotency_key = $1", [
    `order:${orderId}:authorize`,
  ]);
  t.deepEqual(tombstone, { outcome: "declined", voided: true });
  t.is((await failure(payment.saga.authorizePayment({ orderId, amount: eur(700n), paymentMethod: "pm_test_network_error" }))).reason, "PAYMENT_VOIDED");
});

test("concurrent refunds with different ids never refund more than was captured", async (t) => {
  const orderId = await captured(1_000n);
  const results = await Promise.allSettled(
    Array.from({ length: 6 }, (_, i) => payment.saga.refundPayment({ orderId, refundId: `c-${i}`, amount: eur(300n) })),
  );
  t.is(results.filter((r) => r.status === "fulfilled").length, 3);
  const { payment: p } = await payment.admin.getPayment({ orderId });
  t.is(p!.refunded!.amountMinor, 900n);
  t.is(p!.state, PaymentState.PARTIALLY_REFUNDED);
  t.is((await outboxEvents(payment, PaymentRefundedSchema, orderId)).length, 3);
});
