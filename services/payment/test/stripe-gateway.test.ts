// The Stripe gateway with the official library: through stripe-mock (Stripe's own API mock) for the
// whole life of a payment, an unreachable Stripe for unavailability, and Stripe's documented error
// bodies for the mapping of declines.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Code } from "@connectrpc/connect";
import test from "ava";
import { PaymentOperationKind, PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import type Stripe from "stripe";
import { GatewayUnavailableError } from "../src/gateway.ts";
import { authorizationOf, createStripeClient, createStripeGateway } from "../src/stripe-gateway.ts";
import { eur, failure, newOrderId, startPayment, type Harness } from "./helpers.ts";
import { startStripeMock, type StripeMock } from "./stripe-mock.ts";

let mock: StripeMock;
let payment: Harness;
test.before(async () => {
  mock = await startStripeMock({ intentStatus: "requires_capture" });
  payment = await startPayment({
    env: { PAYMENT_GATEWAY: "stripe", STRIPE_API_URL: mock.url, STRIPE_SECRET_KEY: "sk_test_123", STRIPE_WEBHOOK_SECRET: "whsec_test" },
  });
});
test.after.always(async () => {
  await payment?.stop();
  await mock?.stop();
});

test("through stripe-mock: authorise, capture and refund a payment with the Stripe gateway", async (t) => {
  const orderId = newOrderId();
  const { payment: p } = await payment.saga.authorizePayment({ orderId, amount: eur(4200n), paymentMethod: "pm_card_visa", email: "buyer@example.com" });
  t.is(p!.state, PaymentState.AUTHORIZED);
  t.is(p!.gateway, "stripe");
  t.regex(p!.gatewayReference, /^pi_/);
  const captured = await payment.saga.capturePayment({ orderId });
  t.is(captured.payment!.state, PaymentState.CAPTURED);
  const refunded = await payment.saga.refundPayment({ orderId, refundId: "rma-7", amount: eur(200n) });
  t.is(refunded.payment!.state, PaymentState.PARTIALLY_REFUNDED);
  t.regex(refunded.refund!.gatewayReference, /^re_/);
  t.deepEqual(
    refunded.payment!.operations.map((o) => o.kind),
    [PaymentOperationKind.AUTHORIZE, PaymentOperationKind.CAPTURE, PaymentOperationKind.REFUND],
  );
});

test("through stripe-mock: voiding an authorisation cancels its PaymentIntent", async (t) => {
  const orderId = newOrderId();
  await payment.saga.authorizePayment({ orderId, amount: eur(900n), paymentMethod: "pm_card_visa" });
  const { payment: p } = await payment.saga.voidPayment({ orderId });
  t.is(p!.state, PaymentState.VOIDED);
  t.is(payment.gatewayCalls("void", `order:${orderId}:void`), 1);
});

test("every Stripe request carries the operation's idempotency key: the PaymentIntent, its capture, refund and cancel", async (t) => {
  const stripe = createStripeClient({ secretKey: "sk_test_123", apiUrl: mock.url });
  const seen: Array<{ method: string; path: string; key: string | undefined; status: number }> = [];
  stripe.on("response", (event: Stripe.ResponseEvent) => seen.push({ method: event.method, path: event.path, key: event.idempotency_key, status: event.status }));
  const gateway = createStripeGateway({ stripe });
  const orderId = newOrderId();
  const result = await gateway.authorize({
    idempotencyKey: `order:${orderId}:authorize`,
    orderId,
    amount: 1500n,
    currency: "EUR",
    paymentMethod: "pm_card_visa",
    customerId: "",
    email: "",
  });
  t.is(result.outcome, "authorized");
  const reference = (result as { reference: string }).reference;
  await gateway.capture({ reference, amount: 1500n, idempotencyKey: `order:${orderId}:capture` });
  const refund = await gateway.refund({ reference, amount: 100n, idempotencyKey: `refund:${orderId}:r1` });
  t.regex(refund.reference, /^re_/);
  await gateway.void({ reference, authorizationKey: `order:${orderId}:authorize`, orderId, idempotencyKey: `order:${orderId}:void` });
  t.deepEqual(seen, [
    { method: "POST", path: "/v1/payment_intents", key: `order:${orderId}:authorize`, status: 200 },
    { method: "POST", path: `/v1/payment_intents/${reference}/capture`, key: `order:${orderId}:capture`, status: 200 },
    { method: "POST", path: "/v1/refunds", key: `refund:${orderId}:r1`, status: 200 },
    { method: "POST", path: `/v1/payment_intents/${reference}/cancel`, key: `order:${orderId}:void`, status: 200 },
  ]);
});

test("voiding an authorisation whose answer was never recorded finds its PaymentIntent by order and cancels it", async (t) => {
  const stripe = createStripeClient({ secretKey: "sk_test_123", apiUrl: mock.url });
  const seen: Array<{ method: string; path: string; key: string | undefined }> = [];
  stripe.on("response", (event: Stripe.ResponseEvent) => seen.push({ method: event.method, path: event.path, key: event.idempotency_key }));
  const orderId = newOrderId();
  await createStripeGateway({ stripe }).void({ authorizationKey: `order:${orderId}:authorize`, orderId, idempotencyKey: `order:${orderId}:void` });
  t.is(seen[0]!.method, "GET");
  t.true(seen[0]!.path.startsWith("/v1/payment_intents/search"));
  // stripe-mock's search answers with its fixture intent (requires_capture): cancelled, keyed per intent.
  t.deepEqual(seen.slice(1), [{ method: "POST", path: "/v1/payment_intents/pi_fixture/cancel", key: `order:${orderId}:void:pi_fixture` }]);
});

test("an unreachable Stripe answers unavailable and authorises nothing", async (t) => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const unreachable = await startPayment({
    env: { PAYMENT_GATEWAY: "stripe", STRIPE_API_URL: `http://127.0.0.1:${port}`, STRIPE_SECRET_KEY: "sk_test_123", STRIPE_WEBHOOK_SECRET: "whsec_test" },
  });
  t.teardown(() => unreachable.stop());
  const orderId = newOrderId();
  const error = await failure(unreachable.saga.authorizePayment({ orderId, amount: eur(100n), paymentMethod: "pm_card_visa" }));
  t.is(error.code, Code.Unavailable);
  t.is((await unreachable.admin.getPayment({ orderId })).payment!.state, PaymentState.PENDING);
});

/** A server answering every request with Stripe's documented error body for `error`, at `status`. */
async function stripeAnswering(t: { teardown(fn: () => void): void }, status: number, error: Record<string, unknown>): Promise<string> {
  const server = http.createServer((request, response) => {
    request.resume();
    response.writeHead(status, { "content-type": "application/json", "request-id": "req_test" });
    response.end(JSON.stringify({ error }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const authorizeInput = (orderId = newOrderId()) => ({
  idempotencyKey: `order:${orderId}:authorize`,
  orderId,
  amount: 100n,
  currency: "EUR",
  paymentMethod: "pm_card_visa",
  customerId: "",
  email: "",
});

test("Stripe's card_declined with decline code insufficient_funds is INSUFFICIENT_FUNDS; other declines are PAYMENT_DECLINED", async (t) => {
  const insufficient = await stripeAnswering(t, 402, {
    type: "card_error",
    code: "card_declined",
    decline_code: "insufficient_funds",
    message: "Your card has insufficient funds.",
    payment_intent: { id: "pi_declined", object: "payment_intent", status: "requires_payment_method" },
  });
  const declined = await stripeAnswering(t, 402, { type: "card_error", code: "card_declined", decline_code: "generic_decline", message: "Your card was declined." });
  const gateway = (url: string) => createStripeGateway({ stripe: createStripeClient({ secretKey: "sk_test_123", apiUrl: url, maxNetworkRetries: 0 }) });
  t.deepEqual(await gateway(insufficient).authorize(authorizeInput()), {
    outcome: "declined",
    code: "INSUFFICIENT_FUNDS",
    message: "Your card has insufficient funds.",
    reference: "pi_declined",
  });
  t.like(await gateway(declined).authorize(authorizeInput()), { outcome: "declined", code: "PAYMENT_DECLINED", message: "Your card was declined." });
});

test("Stripe answering 500 is GatewayUnavailable for authorisations and captures (the same call may be repeated)", async (t) => {
  const broken = await stripeAnswering(t, 500, { type: "api_error", message: "Something went wrong on Stripe's end." });
  const gateway = createStripeGateway({ stripe: createStripeClient({ secretKey: "sk_test_123", apiUrl: broken, maxNetworkRetries: 0 }) });
  await t.throwsAsync(gateway.authorize(authorizeInput()), { instanceOf: GatewayUnavailableError });
  await t.throwsAsync(gateway.capture({ reference: "pi_x", amount: 1n, idempotencyKey: "k" }), { instanceOf: GatewayUnavailableError });
});

test("a confirmed PaymentIntent's status says what the authorisation is", (t) => {
  const intent = (fields: Partial<Stripe.PaymentIntent>) => ({ id: "pi_1", last_payment_error: null, ...fields }) as Stripe.PaymentIntent;
  t.deepEqual(authorizationOf(intent({ status: "requires_capture" })), { outcome: "authorized", reference: "pi_1" });
  t.deepEqual(authorizationOf(intent({ status: "processing" })), { outcome: "pending", reference: "pi_1" });
  t.like(authorizationOf(intent({ status: "requires_action" })), { outcome: "declined", code: "PAYMENT_DECLINED" });
  t.like(
    authorizationOf(
      intent({ status: "requires_payment_method", last_payment_error: { type: "card_error", decline_code: "insufficient_funds", message: "No funds." } as Stripe.PaymentIntent.LastPaymentError }),
    ),
    { outcome: "declined", code: "INSUFFICIENT_FUNDS", message: "No funds." },
  );
});
