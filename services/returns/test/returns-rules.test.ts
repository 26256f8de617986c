// Who may return what, and abuse: two requests racing for the last returnable unit (exactly one wins),
// returning more than delivered, an undelivered order, someone else's order, a guest without the cart
// token, zero or negative quantities, receiving more than the return holds, refunding twice, moves
// from the wrong status — each refused with its reason, and nothing changed.
import test from "ava";
import { randomUUID } from "node:crypto";
import { ReturnReason, ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { guestCart, placeRequest } from "../../order/test/helpers.ts";
import { anotherReturns, Code, deliveredGuestOrder, deliveredUserOrder, failure, paymentOf, returnsMeshPerFile, sellable } from "./helpers.ts";

const returnsMesh = returnsMeshPerFile(test);

const units = async (r: ReturnType<typeof returnsMesh>, orderId: string) =>
  Number((await r.sql<{ claimed: number }>("select coalesce(sum(claimed), 0)::int as claimed from returnable_line where order_id = $1", [orderId]))[0]!.claimed);

test("two requests racing for the last returnable unit: exactly one wins, the other is told RETURN_QUANTITY_EXCEEDED", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 2 }]);
  const shopper = r.guest(token);
  await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED });
  const outcomes = await Promise.allSettled(
    Array.from({ length: 2 }, () => shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.WRONG_ITEM })),
  );
  t.is(outcomes.filter((o) => o.status === "fulfilled").length, 1);
  const refused = outcomes.find((o) => o.status === "rejected");
  const f = await failure(Promise.reject((refused as PromiseRejectedResult).reason));
  t.is(f.code, Code.FailedPrecondition);
  t.is(f.reason, "RETURN_QUANTITY_EXCEEDED");
  t.is(await units(r, order.id), 2);
  t.is((await shopper.listOrderReturns({ orderId: order.id })).returns.length, 2);
});

test("cancelled and rejected returns give their units back; a received one cannot be cancelled", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 1 }]);
  const shopper = r.guest(token);
  const { return: first } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.OTHER, comment: "no" });
  t.is((await shopper.cancelReturn({ returnId: first!.id })).return!.status, ReturnStatus.CANCELLED);
  t.is(await units(r, order.id), 0);
  const { return: second } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.OTHER });
  const noNote = await failure(r.admin.rejectReturn({ returnId: second!.id }));
  t.is(noNote.code, Code.InvalidArgument);
  t.deepEqual(noNote.fields, ["note"]);
  t.is((await r.admin.rejectReturn({ returnId: second!.id, note: "worn" })).return!.status, ReturnStatus.REJECTED);
  t.is(await units(r, order.id), 0);
  const { return: third } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.OTHER });
  await r.admin.approveReturn({ returnId: third!.id });
  await r.admin.receiveReturn({ returnId: third!.id, lines: [{ sku, damaged: 1 }] });
  const late = await failure(shopper.cancelReturn({ returnId: third!.id }));
  t.is(late.code, Code.FailedPrecondition);
  t.is(late.reason, "INVALID_TRANSITION");
  const approveReceived = await failure(r.admin.approveReturn({ returnId: third!.id }));
  t.is(approveReceived.reason, "INVALID_TRANSITION");
});

test("bad input: every violation at once, with its field, and nothing recorded", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 2 }]);
  const shopper = r.guest(token);
  const bad = await failure(
    shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 0 }, { sku, quantity: -1 }], reason: ReturnReason.UNSPECIFIED, comment: "x".repeat(1001) }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields.sort(), ["comment", "lines[0].quantity", "lines[1].quantity", "lines[1].sku", "reason"]);
  const malformed = await failure(shopper.requestReturn({ orderId: "not-a-uuid", lines: [], reason: ReturnReason.DAMAGED }));
  t.deepEqual(malformed.fields.sort(), ["lines", "order_id"]);
  const notOnOrder = await failure(shopper.requestReturn({ orderId: order.id, lines: [{ sku: "SKU-NOT-HERE", quantity: 1 }], reason: ReturnReason.DAMAGED }));
  t.is(notOnOrder.code, Code.InvalidArgument);
  t.deepEqual(notOnOrder.fields, ["lines[0].sku"]);
  const tooMany = await failure(shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 3 }], reason: ReturnReason.DAMAGED }));
  t.is(tooMany.code, Code.FailedPrecondition);
  t.is(tooMany.reason, "RETURN_QUANTITY_EXCEEDED");
  t.is((await r.sql("select id from return_request where order_id = $1", [order.id])).length, 0);
  t.is(await units(r, order.id), 0);
});

test("ownership: someone else's order and a guest without the cart token meet NOT_FOUND; the owner and staff get through", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const owner = randomUUID();
  const order = await deliveredUserOrder(r.mesh, owner, [{ sku, quantity: 1 }]);
  const request = { orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED };
  const stranger = await failure((await r.user(randomUUID())).requestReturn(request));
  t.is(stranger.code, Code.NotFound);
  const anonymous = await failure(r.guest().requestReturn(request));
  t.is(anonymous.code, Code.NotFound);
  const { order: other, token: otherToken } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 1 }]);
  const wrongToken = await failure(r.guest(otherToken).requestReturn(request));
  t.is(wrongToken.code, Code.NotFound);
  t.is(await units(r, order.id), 0);

  const { return: mine } = await (await r.user(owner)).requestReturn(request);
  t.is(mine!.userId, owner);
  t.is((await failure((await r.user(randomUUID())).getReturn({ returnId: mine!.id }))).code, Code.NotFound);
  t.is((await failure(r.guest(otherToken).cancelReturn({ returnId: mine!.id }))).code, Code.NotFound);
  t.is((await failure((await r.user(owner)).approveReturn({ returnId: mine!.id }))).code, Code.PermissionDenied);
  t.is((await failure((await r.user(owner)).refundReturn({ returnId: mine!.id }))).code, Code.PermissionDenied);
  t.is((await r.admin.getReturn({ returnId: mine!.id })).return!.status, ReturnStatus.REQUESTED);
  t.truthy(other);
});

test("an undelivered order cannot be returned; receiving more than the return holds is refused; a refund is made once", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1500 });
  const cart = await guestCart(r.mesh, [{ sku, quantity: 2 }]);
  const { order: confirmed } = await r.mesh.orders.guest(cart.token).placeOrder(placeRequest(cart.cartId));
  const undelivered = await failure(r.guest(cart.token).requestReturn({ orderId: confirmed!.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED }));
  t.is(undelivered.code, Code.FailedPrecondition);
  t.is(undelivered.reason, "ORDER_NOT_DELIVERED");

  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 2 }]);
  const { return: one } = await r.guest(token).requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED });
  const early = await failure(r.admin.receiveReturn({ returnId: one!.id, lines: [{ sku, resellable: 1 }] }));
  t.is(early.reason, "INVALID_TRANSITION");
  await r.admin.approveReturn({ returnId: one!.id });
  const over = await failure(r.admin.receiveReturn({ returnId: one!.id, lines: [{ sku, resellable: 1, damaged: 1 }] }));
  t.is(over.code, Code.FailedPrecondition);
  t.is(over.reason, "RECEIVED_EXCEEDS_APPROVED");
  const foreign = await failure(r.admin.receiveReturn({ returnId: one!.id, lines: [{ sku: "SKU-OTHER", resellable: 1 }] }));
  t.deepEqual(foreign.fields, ["lines[0].sku"]);
  t.is((await r.admin.getReturn({ returnId: one!.id })).return!.status, ReturnStatus.APPROVED, "nothing changed");
  const early2 = await failure(r.admin.refundReturn({ returnId: one!.id }));
  t.is(early2.reason, "INVALID_TRANSITION");
  await r.admin.receiveReturn({ returnId: one!.id, lines: [{ sku, resellable: 1 }] });
  const twice = await Promise.all([r.admin.refundReturn({ returnId: one!.id }), r.admin.refundReturn({ returnId: one!.id })]);
  t.is(twice[0].return!.refunded!.amountMinor, twice[1].return!.refunded!.amountMinor);
  t.is((await paymentOf(r.mesh, order.id))!.refunded!.amountMinor, twice[0].return!.refunded!.amountMinor);
});

test("after the return window: RETURN_WINDOW_CLOSED, nothing recorded", async (t) => {
  const r = returnsMesh();
  // A window of 0 days has closed by the time the request arrives.
  const closed = await anotherReturns(r, t, { RETURNS_WINDOW_DAYS: "0" });
  const sku = await sellable(r.mesh, { price: 1500 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 1 }]);
  const late = await failure(closed.guest(token).requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.CHANGED_MIND }));
  t.is(late.code, Code.FailedPrecondition);
  t.is(late.reason, "RETURN_WINDOW_CLOSED");
  // Within the (default) window of the other instance, the same request is taken.
  t.is((await r.guest(token).requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.CHANGED_MIND })).return!.status, ReturnStatus.REQUESTED);
});
