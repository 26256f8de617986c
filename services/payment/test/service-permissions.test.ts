// Least privilege between services, as the payment service enforces it from the service token's
// subject and the platform's SERVICE_PERMISSIONS: only the order service moves money.
import { Code } from "@connectrpc/connect";
import test from "ava";
import { PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { eur, failure, newOrderId, startPayment, type Harness } from "./helpers.ts";

let payment: Harness;
test.before(async () => {
  payment = await startPayment();
});
test.after.always(async () => {
  await payment?.stop();
});

const asService = async (subject: string) => payment.clientWith(await payment.signer.token({ subject, service: true }));

test("the cart's service token cannot capture a payment, and nothing moves; the order's captures it", async (t) => {
  const orderId = newOrderId();
  await payment.saga.authorizePayment({ orderId, amount: eur(2500n), paymentMethod: "pm_test_ok" });

  const cart = await asService("cart");
  const refused = await failure(cart.capturePayment({ orderId }));
  t.is(refused.code, Code.PermissionDenied);
  t.is(refused.reason, "SERVICE_NOT_PERMITTED");
  t.is(refused.message, "the cart service may not call bazaar.payment.v1.PaymentService/CapturePayment");
  t.is(payment.gatewayCalls("capture"), 0);
  t.is((await payment.admin.getPayment({ orderId })).payment!.state, PaymentState.AUTHORIZED);
  // Refunds and reads are the order's too.
  t.is((await failure(cart.refundPayment({ orderId, refundId: "r1", amount: eur(1n) }))).code, Code.PermissionDenied);
  t.is((await failure(cart.getPayment({ orderId }))).code, Code.PermissionDenied);

  const order = await asService("order");
  t.is((await order.capturePayment({ orderId })).payment!.state, PaymentState.CAPTURED);
});

test("a service the table does not list is refused with permission_denied naming the method", async (t) => {
  const orderId = newOrderId();
  for (const subject of ["notification", "some-new-service"]) {
    const stranger = await asService(subject);
    const refused = await failure(stranger.authorizePayment({ orderId, amount: eur(100n), paymentMethod: "pm_test_ok" }));
    t.is(refused.code, Code.PermissionDenied);
    t.is(refused.message, `the ${subject} service may not call bazaar.payment.v1.PaymentService/AuthorizePayment`);
  }
  t.is((await payment.sql("select 1 from payment where order_id = $1", [orderId])).length, 0);
});

test("admins still reach what services may not: the table governs service tokens only", async (t) => {
  const orderId = newOrderId();
  t.is((await payment.admin.authorizePayment({ orderId, amount: eur(100n), paymentMethod: "pm_test_ok" })).payment!.state, PaymentState.AUTHORIZED);
  t.is((await failure(payment.customer.getPayment({ orderId }))).code, Code.PermissionDenied);
});
