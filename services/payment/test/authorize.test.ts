// AuthorizePayment through the test gateway: idempotent per order, one gateway charge however often
// and however concurrently it is asked, declines recorded and published, an unreachable gateway
// leaving nothing authorised, and a slow gateway's answer recorded after the caller gave up.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { PaymentFailedSchema, PaymentAuthorizedSchema } from "@bazaar/contracts/bazaar/payment/v1/events_pb";
import { PaymentOperationKind, PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { eur, eventually, failure, jetStreamEvents, newOrderId, outboxEvents, startPayment, type Harness } from "./helpers.ts";

let payment: Harness;
/** Fails the gateway's answer once for orders listed here, after the gateway recorded it (a crash before the settle). */
const crashAfterGateway = new Set<string>();

test.before(async () => {
  payment = await startPayment({
    wrapGateway: (gateway) => ({
      ...gateway,
      async authorize(input) {
        const result = await gateway.authorize(input);
        if (crashAfterGateway.delete(input.orderId)) throw new Error("lost the gateway's answer");
        return result;
      },
    }),
  });
});
test.after.always(async () => {
  await payment?.stop();
});

const charges = (orderId: string) =>
  payment.sql<{ count: string }>("select count(*)::text as count from test_gateway_charge where idempotency_key = $1", [`order:${orderId}:authorize`]);

test("pm_test_ok authorises: the payment is AUTHORIZED with the gateway's reference and an authorize operation", async (t) => {
  const orderId = newOrderId();
  const { payment: p } = await payment.saga.authorizePayment({ orderId, amount: eur(4999n), paymentMethod: "pm_test_ok", email: "buyer@example.com" });
  t.is(p!.state, PaymentState.AUTHORIZED);
  t.is(p!.orderId, orderId);
  t.is(p!.amount!.amountMinor, 4999n);
  t.is(p!.amount!.currencyCode, "EUR");
  t.is(p!.captured!.amountMinor, 0n);
  t.is(p!.gateway, "test");
  t.regex(p!.gatewayReference, /^test_ch_/);
  t.is(p!.paymentMethod, "pm_test_ok");
  t.deepEqual(
    p!.operations.map((o) => [o.kind, o.succeeded, o.amount!.amountMinor]),
    [[PaymentOperationKind.AUTHORIZE, true, 4999n]],
  );
  const [authorized] = await outboxEvents(payment, PaymentAuthorizedSchema, orderId);
  t.is(authorized?.paymentId, p!.id);
  t.is(authorized?.amount?.amountMinor, 4999n);
});

test("repeating an authorisation returns the same payment, and the gateway is charged once", async (t) => {
  const orderId = newOrderId();
  const request = { orderId, amount: eur(1200n), paymentMethod: "pm_test_ok" };
  const first = await payment.saga.authorizePayment(request);
  const second = await payment.saga.authorizePayment(request);
  t.is(second.payment!.id, first.payment!.id);
  t.is(second.payment!.gatewayReference, first.payment!.gatewayReference);
  t.is(second.payment!.state, PaymentState.AUTHORIZED);
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 1);
  t.is((await charges(orderId))[0]!.count, "1");
  t.is((await outboxEvents(payment, PaymentAuthorizedSchema, orderId)).length, 1);
});

test("the same order with a different amount, currency or payment method is already_exists, and the payment is unchanged", async (t) => {
  const orderId = newOrderId();
  await payment.saga.authorizePayment({ orderId, amount: eur(1000n), paymentMethod: "pm_test_ok" });
  for (const request of [
    { orderId, amount: eur(1001n), paymentMethod: "pm_test_ok" },
    { orderId, amount: { amountMinor: 1000n, currencyCode: "USD" }, paymentMethod: "pm_test_ok" },
    { orderId, amount: eur(1000n), paymentMethod: "pm_test_slow" },
  ]) {
    const error = await failure(payment.saga.authorizePayment(request));
    t.is(error.code, Code.AlreadyExists);
    t.is(error.reason, "PAYMENT_EXISTS");
  }
  const { payment: p } = await payment.admin.getPayment({ orderId });
  t.is(p!.amount!.amountMinor, 1000n);
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 1);
});

test("10 concurrent authorisations of one order make one gateway call, one charge and one payment", async (t) => {
  const orderId = newOrderId();
  const results = await Promise.all(
    Array.from({ length: 10 }, () => payment.saga.authorizePayment({ orderId, amount: eur(777n), paymentMethod: "pm_test_ok" })),
  );
  t.is(new Set(results.map((r) => r.payment!.id)).size, 1);
  t.true(results.every((r) => r.payment!.state === PaymentState.AUTHORIZED));
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 1);
  t.is((await charges(orderId))[0]!.count, "1");
  t.is((await payment.sql("select 1 from payment where order_id = $1", [orderId])).length, 1);
  t.is((await outboxEvents(payment, PaymentAuthorizedSchema, orderId)).length, 1);
});

test("a declined method records FAILED, answers failed_precondition PAYMENT_DECLINED and publishes PaymentFailed; a repeat answers the same", async (t) => {
  const orderId = newOrderId();
  const request = { orderId, amount: eur(500n), paymentMethod: "pm_test_declined" };
  const error = await failure(payment.saga.authorizePayment(request));
  t.is(error.code, Code.FailedPrecondition);
  t.is(error.reason, "PAYMENT_DECLINED");
  const { payment: p } = await payment.admin.getPayment({ orderId });
  t.is(p!.state, PaymentState.FAILED);
  t.is(p!.failureCode, "PAYMENT_DECLINED");
  t.is(p!.failureMessage, "Your card was declined.");
  t.deepEqual(p!.operations.map((o) => [o.kind, o.succeeded, o.failureCode]), [[PaymentOperationKind.AUTHORIZE, false, "PAYMENT_DECLINED"]]);
  const failed = await outboxEvents(payment, PaymentFailedSchema, orderId);
  t.is(failed.length, 1);
  t.is(failed[0]!.failureCode, "PAYMENT_DECLINED");
  t.is(failed[0]!.paymentId, p!.id);

  const again = await failure(payment.saga.authorizePayment(request));
  t.is(again.code, Code.FailedPrecondition);
  t.is(again.reason, "PAYMENT_DECLINED");
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 1);
  t.is((await outboxEvents(payment, PaymentFailedSchema, orderId)).length, 1);
});

test("insufficient funds is declined with its own reason, INSUFFICIENT_FUNDS", async (t) => {
  const orderId = newOrderId();
  const error = await failure(payment.saga.authorizePayment({ orderId, amount: eur(500n), paymentMethod: "pm_test_insufficient_funds" }));
  t.is(error.code, Code.FailedPrecondition);
  t.is(error.reason, "INSUFFICIENT_FUNDS");
  t.is((await payment.admin.getPayment({ orderId })).payment!.failureCode, "INSUFFICIENT_FUNDS");
  t.is((await outboxEvents(payment, PaymentFailedSchema, orderId))[0]?.failureCode, "INSUFFICIENT_FUNDS");
});

test("an unreachable gateway answers unavailable and authorises nothing: the payment stays PENDING, no charge, no event", async (t) => {
  const orderId = newOrderId();
  const request = { orderId, amount: eur(900n), paymentMethod: "pm_test_network_error" };
  const error = await failure(payment.saga.authorizePayment(request));
  t.is(error.code, Code.Unavailable);
  t.is(error.reason, "GATEWAY_UNAVAILABLE");
  const { payment: p } = await payment.admin.getPayment({ orderId });
  t.is(p!.state, PaymentState.PENDING);
  t.is(p!.operations.length, 0);
  t.is((await charges(orderId))[0]!.count, "0");
  t.is((await outboxEvents(payment, PaymentAuthorizedSchema, orderId)).length, 0);
  // Safe to repeat: the same answer, still nothing held, and no lease left behind.
  t.is((await failure(payment.saga.authorizePayment(request))).code, Code.Unavailable);
  t.is((await payment.sql("select busy_until from payment where order_id = $1", [orderId]))[0]!.busy_until, null);
});

test("when the gateway's answer is lost before it is recorded, a repeat asks again with the same key and settles with the first charge", async (t) => {
  const orderId = newOrderId();
  const request = { orderId, amount: eur(3100n), paymentMethod: "pm_test_ok" };
  crashAfterGateway.add(orderId);
  t.is((await failure(payment.saga.authorizePayment(request))).code, Code.Internal);
  t.is((await payment.admin.getPayment({ orderId })).payment!.state, PaymentState.PENDING);
  const [charge] = await payment.sql<{ reference: string }>("select reference from test_gateway_charge where idempotency_key = $1", [`order:${orderId}:authorize`]);

  const { payment: p } = await payment.saga.authorizePayment(request);
  t.is(p!.state, PaymentState.AUTHORIZED);
  t.is(p!.gatewayReference, charge!.reference);
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 2);
  t.is((await charges(orderId))[0]!.count, "1");
  t.is((await outboxEvents(payment, PaymentAuthorizedSchema, orderId)).length, 1);
});

test("a slow gateway past the caller's deadline: the payment still ends AUTHORIZED and PaymentAuthorized reaches JetStream", async (t) => {
  const orderId = newOrderId();
  const since = new Date(Date.now() - 1000);
  const error = await failure(payment.saga.authorizePayment({ orderId, amount: eur(2500n), paymentMethod: "pm_test_slow" }, { timeoutMs: 200 }));
  t.is(error.code, Code.DeadlineExceeded);
  const settled = await eventually(
    "the slow authorisation to be recorded",
    async () => {
      const [row] = await payment.sql<{ state: string }>("select state from payment where order_id = $1", [orderId]);
      return row?.state === "authorized" && row;
    },
    30_000,
  );
  t.is(settled.state, "authorized");
  const [received] = await jetStreamEvents(orderId, 1, since);
  t.is(received!.subject, "bazaar.payment.payment_authorized");
  t.is(received!.event.$typeName, "bazaar.payment.v1.PaymentAuthorized");
  t.is(received!.messageId, received!.event.eventId);
  // Asked again, the order's payment is answered as it is, with no second charge.
  const { payment: p } = await payment.saga.authorizePayment({ orderId, amount: eur(2500n), paymentMethod: "pm_test_slow" });
  t.is(p!.state, PaymentState.AUTHORIZED);
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 1);
});

test("a payment held by another instance that crashed mid-call is taken over once its hold lapses, and settled", async (t) => {
  const orderId = newOrderId();
  // What a crashed instance leaves behind: the payment recorded PENDING, held for a moment more.
  await payment.sql(
    `insert into payment (id, order_id, state, currency, amount, payment_method, gateway, busy_until)
     values (gen_random_uuid(), $1, 'pending', 'EUR', 4100, 'pm_test_ok', 'test', clock_timestamp() + interval '1 second')`,
    [orderId],
  );
  const { payment: p } = await payment.saga.authorizePayment({ orderId, amount: eur(4100n), paymentMethod: "pm_test_ok" });
  t.is(p!.state, PaymentState.AUTHORIZED);
  t.is(payment.gatewayCalls("authorize", `order:${orderId}:authorize`), 1);
  t.is((await payment.sql("select busy_until from payment where order_id = $1", [orderId]))[0]!.busy_until, null);
});
