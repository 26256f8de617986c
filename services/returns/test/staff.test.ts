// Staff's side: approving with a return label bought through the shipping service's carrier port (its
// URL and tracking on the return, for the shopper too; the same label however often it is asked), a
// label that cannot be bought changing nothing, and the staff list — newest first, by status, in keyset
// pages. Serial: the list is compared with everything in this file's returns database.
import test from "ava";
import { fromBinary } from "@bufbuild/protobuf";
import { ReturnApprovedSchema } from "@bazaar/contracts/bazaar/returns/v1/events_pb";
import { ReturnReason, ReturnStatus } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";
import { Code, deliveredGuestOrder, eventually, failure, returnsMeshPerFile, sellable, type ReturnsMesh } from "./helpers.ts";

const returnsMesh = returnsMeshPerFile(test);

/** The order's shipment (created by shipping from OrderPlaced, asynchronously). */
const shipmentOf = (r: ReturnsMesh, orderId: string) =>
  eventually("the order's shipment", async () => {
    try {
      return (await r.mesh.shippingAdmin.listOrderShipments({ orderId })).shipments[0];
    } catch {
      return undefined;
    }
  });

test.serial("staff approve with a return label from the order's carrier: its URL and tracking reach the return and the shopper, the same label when asked again", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 2000 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 1 }]);
  const shipment = await shipmentOf(r, order.id);
  const shopper = r.guest(token);
  const { return: requested } = await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.WRONG_ITEM });

  const approved = (await r.admin.approveReturn({ returnId: requested!.id, buyLabel: true, note: "label sent" })).return!;
  t.is(approved.status, ReturnStatus.APPROVED);
  const label = approved.label!;
  t.is(label.carrier, shipment.carrier);
  t.regex(label.trackingNumber, /^TEST\d{18}$/);
  t.is(label.labelUrl, `https://carrier.test/labels/${label.trackingNumber}.pdf`);
  t.is(label.trackingUrl, `https://carrier.test/track/${label.trackingNumber}`);
  t.deepEqual((await shopper.getReturn({ returnId: requested!.id })).return!.label, label, "the shopper sees where to print it");
  // ReturnApproved carries the label to the shopper's email (notification), once.
  const approvals = (await r.sql<{ payload: Buffer }>("select payload from platform_outbox where type_name = $1", [ReturnApprovedSchema.typeName]))
    .map((row) => fromBinary(ReturnApprovedSchema, row.payload))
    .filter((event) => event.returnId === requested!.id);
  t.deepEqual(
    approvals.map((event) => [event.email, event.carrier, event.trackingNumber, event.labelUrl, event.trackingUrl]),
    [[order.email, label.carrier, label.trackingNumber, label.labelUrl, label.trackingUrl]],
  );

  // Approving again, or shipping asked again for this return, gives the same label.
  t.deepEqual((await r.admin.approveReturn({ returnId: requested!.id, buyLabel: true })).return!.label, label);
  const again = await r.mesh.shippingAdmin.buyReturnLabel({ orderId: order.id, returnId: requested!.id });
  t.is(again.trackingNumber, label.trackingNumber);
  t.deepEqual((await shopper.getReturn({ returnId: requested!.id })).return!.history.map((h) => h.status), [ReturnStatus.REQUESTED, ReturnStatus.APPROVED]);
});

test.serial("a label that cannot be bought (the order's shipment was cancelled) refuses the approval and changes nothing; only staff approve", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 2000 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 1 }]);
  const shipment = await shipmentOf(r, order.id);
  await r.mesh.shippingAdmin.cancelShipment({ id: shipment.id, reason: "lost in the warehouse" });
  const { return: requested } = await r.guest(token).requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.DAMAGED });

  const refused = await failure(r.admin.approveReturn({ returnId: requested!.id, buyLabel: true }));
  t.is(refused.code, Code.FailedPrecondition);
  t.is(refused.reason, "LABEL_NOT_AVAILABLE");
  const unchanged = (await r.admin.getReturn({ returnId: requested!.id })).return!;
  t.is(unchanged.status, ReturnStatus.REQUESTED);
  t.is(unchanged.label, undefined);
  // Without a label the approval goes through.
  t.is((await r.admin.approveReturn({ returnId: requested!.id })).return!.status, ReturnStatus.APPROVED);

  t.is((await failure(r.guest(token).approveReturn({ returnId: requested!.id, buyLabel: true }))).code, Code.Unauthenticated);
  t.is((await failure((await r.user(crypto.randomUUID())).approveReturn({ returnId: requested!.id, buyLabel: true }))).code, Code.PermissionDenied);
});

test.serial("ListReturns: newest first, filtered by status, in keyset pages with no gap or repeat; admins only; bad page sizes and foreign tokens refused", async (t) => {
  const r = returnsMesh();
  const sku = await sellable(r.mesh, { price: 1000 });
  const { order, token } = await deliveredGuestOrder(r.mesh, [{ sku, quantity: 3 }]);
  const shopper = r.guest(token);
  const made: string[] = [];
  for (let i = 0; i < 3; i++) made.push((await shopper.requestReturn({ orderId: order.id, lines: [{ sku, quantity: 1 }], reason: ReturnReason.CHANGED_MIND })).return!.id);
  await r.admin.approveReturn({ returnId: made[1]! });

  const all = (await r.sql<{ id: string }>("select id from return_request order by id desc")).map((row) => row.id);
  const paged: string[] = [];
  let pageToken = "";
  do {
    const page = await r.admin.listReturns({ pageSize: 2, pageToken });
    t.true(page.returns.length <= 2);
    paged.push(...page.returns.map((x) => x.id));
    pageToken = page.nextPageToken;
  } while (pageToken);
  t.deepEqual(paged, all);
  t.deepEqual(paged.filter((id) => made.includes(id)), [...made].reverse(), "newest first");

  const requested = await r.admin.listReturns({ status: ReturnStatus.REQUESTED, pageSize: 1 });
  t.true(requested.returns.every((x) => x.status === ReturnStatus.REQUESTED));
  const approved = await r.admin.listReturns({ status: ReturnStatus.APPROVED });
  t.true(approved.returns.some((x) => x.id === made[1]));
  t.true(approved.returns.every((x) => x.status === ReturnStatus.APPROVED));

  // A token is bound to its filter.
  t.not(requested.nextPageToken, "", "two returns are REQUESTED: a second page");
  const foreign = await failure(r.admin.listReturns({ status: ReturnStatus.APPROVED, pageToken: requested.nextPageToken }));
  t.is(foreign.code, Code.InvalidArgument);
  t.deepEqual(foreign.fields, ["page_token"]);
  const tooBig = await failure(r.admin.listReturns({ pageSize: 201 }));
  t.is(tooBig.code, Code.InvalidArgument);
  t.deepEqual(tooBig.fields, ["page_size"]);
  const customer = await r.user(crypto.randomUUID());
  t.is((await failure(customer.listReturns({}))).code, Code.PermissionDenied);
  t.is((await failure(shopper.listReturns({}))).code, Code.Unauthenticated);
});
