// Payment events leave through the outbox and arrive on JetStream (stream BAZAAR_PAYMENT, subjects
// bazaar.payment.<event>) with the event id as the message id and the payloads the order saga reads.
import test from "ava";
import { eur, failure, jetStreamEvents, newOrderId, startPayment, type Harness } from "./helpers.ts";

let payment: Harness;
test.before(async () => {
  payment = await startPayment();
});
test.after.always(async () => {
  await payment?.stop();
});

test("authorise, capture and two refunds publish PaymentAuthorized, PaymentCaptured and PaymentRefunded in order, with their payloads", async (t) => {
  const since = new Date(Date.now() - 1000);
  const orderId = newOrderId();
  const { payment: p } = await payment.saga.authorizePayment({ orderId, amount: eur(12_345n), paymentMethod: "pm_test_ok" });
  await payment.saga.capturePayment({ orderId });
  await payment.saga.refundPayment({ orderId, refundId: "first", amount: eur(345n) });
  await payment.saga.refundPayment({ orderId, refundId: "second", amount: eur(12_000n) });

  const received = await jetStreamEvents(orderId, 4, since);
  t.deepEqual(
    received.map((r) => r.subject),
    ["bazaar.payment.payment_authorized", "bazaar.payment.payment_captured", "bazaar.payment.payment_refunded", "bazaar.payment.payment_refunded"],
  );
  for (const r of received) {
    t.is(r.messageId, r.event.eventId);
    t.is(r.event.paymentId, p!.id);
    t.truthy(r.event.occurredAt);
  }
  const [authorized, captured, first, second] = received.map((r) => r.event);
  if (
    authorized!.$typeName !== "bazaar.payment.v1.PaymentAuthorized" ||
    captured!.$typeName !== "bazaar.payment.v1.PaymentCaptured" ||
    first!.$typeName !== "bazaar.payment.v1.PaymentRefunded" ||
    second!.$typeName !== "bazaar.payment.v1.PaymentRefunded"
  ) {
    return t.fail("unexpected event types");
  }
  t.deepEqual([authorized!.amount?.amountMinor, authorized!.amount?.currencyCode], [12_345n, "EUR"]);
  t.deepEqual([captured!.amount?.amountMinor, captured!.amount?.currencyCode], [12_345n, "EUR"]);
  t.deepEqual([first!.refundId, first!.amount?.amountMinor, first!.totalRefunded?.amountMinor], ["first", 345n, 345n]);
  t.deepEqual([second!.refundId, second!.amount?.amountMinor, second!.totalRefunded?.amountMinor], ["second", 12_000n, 12_345n]);
});

test("a decline publishes PaymentFailed with the failure code and the gateway's words", async (t) => {
  const since = new Date(Date.now() - 1000);
  const orderId = newOrderId();
  await failure(payment.saga.authorizePayment({ orderId, amount: eur(50n), paymentMethod: "pm_test_insufficient_funds" }));
  const [received] = await jetStreamEvents(orderId, 1, since);
  t.is(received!.subject, "bazaar.payment.payment_failed");
  if (received!.event.$typeName !== "bazaar.payment.v1.PaymentFailed") return t.fail("not PaymentFailed");
  t.is(received!.event.failureCode, "INSUFFICIENT_FUNDS");
  t.is(received!.event.failureMessage, "Your card has insufficient funds.");
});

test("a void publishes PaymentVoided, also for an order voided before any authorisation", async (t) => {
  const since = new Date(Date.now() - 1000);
  const authorized = newOrderId();
  await payment.saga.authorizePayment({ orderId: authorized, amount: eur(50n), paymentMethod: "pm_test_ok" });
  await payment.saga.voidPayment({ orderId: authorized });
  const neverAuthorized = newOrderId();
  await payment.saga.voidPayment({ orderId: neverAuthorized });
  const [, voided] = await jetStreamEvents(authorized, 2, since);
  t.is(voided!.subject, "bazaar.payment.payment_voided");
  const [early] = await jetStreamEvents(neverAuthorized, 1, since);
  t.is(early!.subject, "bazaar.payment.payment_voided");
  t.is(early!.messageId, early!.event.eventId);
});
