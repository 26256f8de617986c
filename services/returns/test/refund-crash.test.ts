// kill -9 of the returns service between the payment refund and its record, then a restart on the same
// database: the restarted service finds the refund it intended, asks again under the same refund id
// (which the payment answers with the refund already made) and records it — exactly one refund.
import test from "ava";
import { ReturnReason, ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { OrderPaymentStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { testEnv } from "@bazaar/platform/testing";
import { passing } from "../../order/test/helpers.ts";
import { returnsChildren } from "./child-process.ts";
import { deliveredGuestOrder, eventually, failure, paymentOf, sellable, startReturnsMesh } from "./helpers.ts";

test("SIGKILL between the payment refund and its record, then a restart: exactly one refund, and the return ends REFUNDED", async (t) => {
  const r = await startReturnsMesh(t);
  const children = await returnsChildren(r, t);

  const sku = await sellable(r.mesh, { price: 1200 });
  const { order } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 2 }]);

  const first = await children.start({ RETURNS_TEST_CRASH_AFTER_REFUND: "1" });
  const staff = r.returnsAt(first.address).admin;
  const { return: requested } = await staff.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED });
  await staff.approveReturn({ returnId: requested!.id });
  await staff.receiveReturn({ returnId: requested!.id, lines: [{ sku, damaged: 1 }] });
  const refund = await failure(staff.refundReturn({ returnId: requested!.id }));
  t.not(refund.code, undefined, "the call dies with the process");
  t.is(await first.exited, "SIGKILL");

  // The money moved; the return does not know yet.
  const refunded = (await paymentOf(r.mesh, order.id))!.refunded!.amountMinor;
  t.true(refunded > 0n);
  const [intent] = await children.sql("select status, refund_state, refund_amount from return_request where id = $1", [requested!.id]);
  t.deepEqual(intent, { status: "RECEIVED", refund_state: "intended", refund_amount: String(refunded) });

  const second = await children.start();
  await passing(testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500", children.name);
  const after = r.returnsAt(second.address).admin;
  const done = await eventually("the restarted service to finish the refund", async () => {
    const { return: current } = await after.getReturn({ returnId: requested!.id });
    return current!.status === ReturnStatus.REFUNDED ? current! : undefined;
  });
  t.is(done.refunded!.amountMinor, refunded);
  t.is((await paymentOf(r.mesh, order.id))!.refunded!.amountMinor, refunded, "no second refund");
  const { order: current } = await r.mesh.orders.admin.getOrder({ orderId: order.id });
  t.is(current!.refunded!.amountMinor, refunded);
  t.is(current!.paymentStatus, OrderPaymentStatus.PARTIALLY_REFUNDED);
  // Asking again answers the recorded refund.
  t.is((await after.refundReturn({ returnId: requested!.id })).return!.refunded!.amountMinor, refunded);
  t.is((await paymentOf(r.mesh, order.id))!.refunded!.amountMinor, refunded);
});
