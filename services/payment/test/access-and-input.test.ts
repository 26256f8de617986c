// Who may call, what bad input gets (every offending field named, nothing changed, no card number
// accepted), the admin reads, and the configuration's rules for the Stripe gateway.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { ConfigError, loadConfig } from "@bazaar/platform";
import { PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { paymentConfigSchema } from "../src/index.ts";
import { env, eur, failure, newOrderId, startPayment, type Harness } from "./helpers.ts";

let payment: Harness;
test.before(async () => {
  payment = await startPayment();
});
test.after.always(async () => {
  await payment?.stop();
});

test("customers are permission_denied and anonymous callers unauthenticated on every method; services and admins pass", async (t) => {
  const orderId = newOrderId();
  const calls = (client: Harness["saga"]) => [
    client.authorizePayment({ orderId, amount: eur(100n), paymentMethod: "pm_test_ok" }),
    client.capturePayment({ orderId }),
    client.voidPayment({ orderId }),
    client.refundPayment({ orderId, refundId: "r", amount: eur(1n) }),
    client.getPayment({ orderId }),
    client.listPayments({}),
  ];
  for (const outcome of await Promise.all(calls(payment.customer).map(failure))) {
    t.is(outcome.code, Code.PermissionDenied);
    t.is(outcome.reason, "SERVICE_OR_ADMIN_REQUIRED");
  }
  for (const outcome of await Promise.all(calls(payment.anonymous).map(failure))) t.is(outcome.code, Code.Unauthenticated);
  t.is((await payment.sql("select 1 from payment where order_id = $1", [orderId])).length, 0);

  t.is((await payment.admin.authorizePayment({ orderId, amount: eur(100n), paymentMethod: "pm_test_ok" })).payment!.state, PaymentState.AUTHORIZED);
  t.is((await payment.saga.getPayment({ orderId })).payment!.orderId, orderId);
});

test("a malformed authorisation is invalid_argument naming each field, and records nothing", async (t) => {
  const orderId = "not-a-uuid";
  const error = await failure(
    payment.saga.authorizePayment({
      orderId,
      amount: { amountMinor: 0n, currencyCode: "eur" },
      paymentMethod: "tok_visa",
      customerId: "x".repeat(129),
      email: "no-at-sign",
    }),
  );
  t.is(error.code, Code.InvalidArgument);
  t.deepEqual(error.fields.sort(), ["amount.amount_minor", "amount.currency_code", "customer_id", "email", "order_id", "payment_method"]);
  t.is((await payment.sql("select 1 from payment where email = 'no-at-sign' or customer_id = $1", ["x".repeat(129)])).length, 0);

  const missing = await failure(payment.saga.authorizePayment({ orderId: newOrderId(), paymentMethod: "" }));
  t.deepEqual(missing.fields.sort(), ["amount", "payment_method"]);
  const tooMuch = await failure(payment.saga.authorizePayment({ orderId: newOrderId(), amount: eur(1_000_000_000_001n), paymentMethod: "pm_test_ok" }));
  t.deepEqual(tooMuch.fields, ["amount.amount_minor"]);
});

test("a card number in place of a payment method is refused naming payment_method, and never echoed or stored", async (t) => {
  for (const pan of ["4242424242424242", "4242 4242 4242 4242", "pm_4242-4242-4242-4242", `pm_${"a".repeat(251)}`]) {
    const orderId = newOrderId();
    const error = await failure(payment.saga.authorizePayment({ orderId, amount: eur(100n), paymentMethod: pan }));
    t.is(error.code, Code.InvalidArgument);
    t.deepEqual(error.fields, ["payment_method"]);
    t.false(error.message.includes(pan.replace(/^pm_/, "").slice(0, 8)));
    t.is((await payment.sql("select 1 from payment where order_id = $1", [orderId])).length, 0);
  }
});

test("malformed refunds, captures and reads name their fields", async (t) => {
  const refund = await failure(payment.saga.refundPayment({ orderId: "x", refundId: "", amount: eur(-5n), reason: "r".repeat(501) }));
  t.is(refund.code, Code.InvalidArgument);
  t.deepEqual(refund.fields.sort(), ["amount.amount_minor", "order_id", "reason", "refund_id"]);
  const control = await failure(payment.saga.refundPayment({ orderId: newOrderId(), refundId: "bad\u0000id", amount: eur(5n) }));
  t.deepEqual(control.fields, ["refund_id"]);
  t.deepEqual((await failure(payment.saga.capturePayment({ orderId: "" }))).fields, ["order_id"]);
  t.deepEqual((await failure(payment.saga.voidPayment({ orderId: "123" }))).fields, ["order_id"]);
  t.deepEqual((await failure(payment.saga.getPayment({ orderId: "123" }))).fields, ["order_id"]);
  t.is((await failure(payment.saga.getPayment({ orderId: newOrderId() }))).code, Code.NotFound);
});

test("ListPayments pages newest first with keyset tokens, filters by state, and refuses foreign tokens and huge pages", async (t) => {
  const orders: string[] = [];
  for (let i = 0; i < 5; i++) {
    const orderId = newOrderId();
    orders.push(orderId);
    await payment.saga.authorizePayment({ orderId, amount: eur(100n + BigInt(i)), paymentMethod: "pm_test_ok" });
  }
  await payment.saga.capturePayment({ orderId: orders[1]! });
  const seen: string[] = [];
  let pageToken = "";
  do {
    const page = await payment.admin.listPayments({ pageSize: 2, pageToken });
    t.true(page.payments.length <= 2);
    seen.push(...page.payments.map((p) => p.orderId));
    pageToken = page.nextPageToken;
  } while (pageToken);
  const ours = seen.filter((id) => orders.includes(id));
  t.deepEqual(ours, [...orders].reverse());
  t.is(new Set(seen).size, seen.length);

  const capturedOnly = await payment.admin.listPayments({ state: PaymentState.CAPTURED, pageSize: 500 });
  t.true(capturedOnly.payments.every((p) => p.state === PaymentState.CAPTURED));
  t.true(capturedOnly.payments.some((p) => p.orderId === orders[1]));
  t.true(capturedOnly.payments.every((p) => p.operations.length === 2));

  t.deepEqual((await failure(payment.admin.listPayments({ pageSize: 501 }))).fields, ["page_size"]);
  const foreign = Buffer.from(JSON.stringify(["levels", "a", "b"])).toString("base64url");
  t.deepEqual((await failure(payment.admin.listPayments({ pageToken: foreign }))).fields, ["page_token"]);
});

test("the Stripe gateway needs its secret key and webhook secret: the configuration names both when they are missing", (t) => {
  const error = t.throws(() => loadConfig(paymentConfigSchema, { ...env, PAYMENT_GATEWAY: "stripe" }), { instanceOf: ConfigError });
  t.deepEqual(error!.problems.map((p) => p.variable).sort(), ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]);
  t.true(error!.problems.every((p) => p.message.includes("PAYMENT_GATEWAY=stripe")));
  const config = loadConfig(paymentConfigSchema, { ...env, PAYMENT_GATEWAY: "stripe", STRIPE_SECRET_KEY: "sk_test_x", STRIPE_WEBHOOK_SECRET: "whsec_x" });
  t.is(config.PAYMENT_GATEWAY, "stripe");
  // The test gateway needs neither, and is the default.
  t.is(loadConfig(paymentConfigSchema, env).PAYMENT_GATEWAY, "test");
  t.throws(() => loadConfig(paymentConfigSchema, { ...env, STRIPE_API_URL: "ftp://mock" }), { instanceOf: ConfigError, message: /STRIPE_API_URL/ });
});

test("in production the gateway has no default and the test gateway refuses to start", (t) => {
  // Everything else production requires is given, so PAYMENT_GATEWAY's problem is the one left.
  const production = { ...env, BAZAAR_ENV: "production", DATABASE_URL: "postgres://payment@db/bazaar", NATS_URL: "nats://nats:4222", SERVICE_CLIENT_SECRET: "s3cret-s3cret-s3cret" };
  for (const [what, gateway] of [["unset", undefined], ["test", "test"]] as const) {
    const error = t.throws(() => loadConfig(paymentConfigSchema, { ...production, PAYMENT_GATEWAY: gateway }), { instanceOf: ConfigError }, what);
    t.deepEqual(error!.problems.map((p) => p.variable), ["PAYMENT_GATEWAY"], what);
  }
  const problems = t.throws(() => loadConfig(paymentConfigSchema, { ...production, PAYMENT_GATEWAY: "test" }), { instanceOf: ConfigError })!.problems;
  t.regex(problems[0]?.message ?? "", /refused with BAZAAR_ENV=production/);
  const stripe = { PAYMENT_GATEWAY: "stripe", STRIPE_SECRET_KEY: "sk_live_x", STRIPE_WEBHOOK_SECRET: "whsec_x" };
  t.is(loadConfig(paymentConfigSchema, { ...production, ...stripe }).PAYMENT_GATEWAY, "stripe");
});
