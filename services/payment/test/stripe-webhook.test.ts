// POST /webhooks/stripe: signed with Stripe's own test header, it settles payments Stripe decided
// later (stripe-mock answers every PaymentIntent "processing", so authorisations stay PENDING until a
// webhook says more); forged, tampered and stale deliveries are refused and change nothing, and a
// redelivered event applies once.
import { randomUUID } from "node:crypto";
import test from "ava";
import Stripe from "stripe";
import {
  PaymentAuthorizedSchema,
  PaymentCapturedSchema,
  PaymentFailedSchema,
  PaymentVoidedSchema,
} from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { eur, newOrderId, outboxEvents, startPayment, type Harness } from "./helpers.ts";
import { startStripeMock, type StripeMock } from "./stripe-mock.ts";

const secret = "whsec_payment_webhook_test";
let mock: StripeMock;
let payment: Harness;
test.before(async () => {
  mock = await startStripeMock({ intentStatus: "processing" });
  payment = await startPayment({ env: { PAYMENT_GATEWAY: "stripe", STRIPE_API_URL: mock.url, STRIPE_SECRET_KEY: "sk_test_123", STRIPE_WEBHOOK_SECRET: secret } });
});
test.after.always(async () => {
  await payment?.stop();
  await mock?.stop();
});

/** An order whose Stripe authorisation is still processing: PENDING, with its PaymentIntent id. */
async function pendingPayment(): Promise<{ orderId: string; intentId: string }> {
  const orderId = newOrderId();
  const { payment: p } = await payment.saga.authorizePayment({ orderId, amount: eur(2000n), paymentMethod: "pm_card_visa" });
  if (p!.state !== PaymentState.PENDING) throw new Error(`expected PENDING, got ${PaymentState[p!.state]}`);
  return { orderId, intentId: p!.gatewayReference };
}

function stripeEvent(type: string, intent: Record<string, unknown>): string {
  return JSON.stringify({ id: `evt_${randomUUID().replaceAll("-", "")}`, object: "event", type, created: Math.floor(Date.now() / 1000), data: { object: { object: "payment_intent", ...intent } } });
}

function signed(body: string, options: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret: options.secret ?? secret, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
}

async function deliver(body: string, signature: string | undefined): Promise<{ status: number; text: string }> {
  const response = await fetch(`${payment.baseUrl}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
    body,
  });
  return { status: response.status, text: await response.text() };
}

const stateOf = async (orderId: string) => (await payment.admin.getPayment({ orderId })).payment!.state;

test("a signed amount_capturable_updated settles a PENDING payment as AUTHORIZED; delivered twice, it applies once", async (t) => {
  const { orderId, intentId } = await pendingPayment();
  const body = stripeEvent("payment_intent.amount_capturable_updated", { id: intentId, status: "requires_capture", metadata: { order_id: orderId } });
  const first = await deliver(body, signed(body));
  t.is(first.status, 200);
  t.is(first.text, "authorized\n");
  t.is(await stateOf(orderId), PaymentState.AUTHORIZED);
  const again = await deliver(body, signed(body));
  t.is(again.status, 200);
  t.is(again.text, "duplicate\n");
  const events = await outboxEvents(payment, PaymentAuthorizedSchema, orderId);
  t.is(events.length, 1);
  t.is(events[0]!.amount?.amountMinor, 2000n);
});

test("a tampered body, a wrong secret, a stale timestamp or no signature is 400 and changes nothing", async (t) => {
  const { orderId, intentId } = await pendingPayment();
  const body = stripeEvent("payment_intent.amount_capturable_updated", { id: intentId, status: "requires_capture", metadata: { order_id: orderId } });
  const tampered = body.replace('"requires_capture"', '"requires_capture" ');
  const attempts = [
    { what: "tampered body", body: tampered, signature: signed(body) },
    { what: "wrong secret", body, signature: signed(body, { secret: "whsec_someone_else" }) },
    { what: "stale timestamp", body, signature: signed(body, { timestamp: Math.floor(Date.now() / 1000) - 600 }) },
    { what: "no signature", body, signature: undefined },
  ];
  for (const attempt of attempts) t.is((await deliver(attempt.body, attempt.signature)).status, 400, attempt.what);
  t.is(await stateOf(orderId), PaymentState.PENDING);
  t.is((await outboxEvents(payment, PaymentAuthorizedSchema, orderId)).length, 0);
  const eventId = (JSON.parse(body) as { id: string }).id;
  t.is((await payment.sql("select 1 from stripe_webhook_event where event_id = $1", [eventId])).length, 0);
  // The genuine delivery still applies afterwards.
  t.is((await deliver(body, signed(body))).text, "authorized\n");
});

test("payment_failed settles a PENDING payment as FAILED with PaymentFailed, insufficient funds told apart", async (t) => {
  const { orderId, intentId } = await pendingPayment();
  const body = stripeEvent("payment_intent.payment_failed", {
    id: intentId,
    status: "requires_payment_method",
    metadata: { order_id: orderId },
    last_payment_error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." },
  });
  t.is((await deliver(body, signed(body))).status, 200);
  const { payment: p } = await payment.admin.getPayment({ orderId });
  t.is(p!.state, PaymentState.FAILED);
  t.is(p!.failureCode, "INSUFFICIENT_FUNDS");
  const [failed] = await outboxEvents(payment, PaymentFailedSchema, orderId);
  t.is(failed?.failureCode, "INSUFFICIENT_FUNDS");
  t.is(failed?.failureMessage, "Your card has insufficient funds.");
});

test("succeeded records the capture of an authorised payment; canceled voids another", async (t) => {
  const captured = await pendingPayment();
  const authorize = stripeEvent("payment_intent.amount_capturable_updated", { id: captured.intentId, metadata: { order_id: captured.orderId } });
  await deliver(authorize, signed(authorize));
  // Signed by Stripe, yet not this payment's money: not a capture.
  for (const [what, amount_received, currency] of [["less", 1999, "eur"], ["another currency", 2000, "usd"], ["no amount", undefined, "eur"]] as const) {
    const wrong = stripeEvent("payment_intent.succeeded", { id: captured.intentId, status: "succeeded", amount_received, currency, metadata: { order_id: captured.orderId } });
    t.is((await deliver(wrong, signed(wrong))).text, "amount mismatch\n", what);
    t.is(await stateOf(captured.orderId), PaymentState.AUTHORIZED, what);
  }
  const succeed = stripeEvent("payment_intent.succeeded", { id: captured.intentId, status: "succeeded", amount_received: 2000, currency: "eur", metadata: { order_id: captured.orderId } });
  t.is((await deliver(succeed, signed(succeed))).text, "captured\n");
  const { payment: p } = await payment.admin.getPayment({ orderId: captured.orderId });
  t.is(p!.state, PaymentState.CAPTURED);
  t.is(p!.captured!.amountMinor, 2000n);
  t.is((await outboxEvents(payment, PaymentCapturedSchema, captured.orderId)).length, 1);

  const canceled = await pendingPayment();
  const cancel = stripeEvent("payment_intent.canceled", { id: canceled.intentId, status: "canceled", metadata: { order_id: canceled.orderId } });
  t.is((await deliver(cancel, signed(cancel))).text, "voided\n");
  t.is(await stateOf(canceled.orderId), PaymentState.VOIDED);
  t.is((await outboxEvents(payment, PaymentVoidedSchema, canceled.orderId)).length, 1);
});

test("events of payments this service does not know, and event types it does not handle, are acknowledged and ignored", async (t) => {
  const unknown = stripeEvent("payment_intent.succeeded", { id: "pi_not_ours", metadata: {} });
  t.deepEqual(await deliver(unknown, signed(unknown)), { status: 200, text: "unknown payment\n" });
  const other = JSON.stringify({ id: "evt_other", object: "event", type: "customer.created", data: { object: { object: "customer", id: "cus_1" } } });
  t.deepEqual(await deliver(other, signed(other)), { status: 200, text: "ignored\n" });
});
