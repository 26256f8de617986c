// Shipments against a real shipping service fed by real OrderPlaced / OrderCancelled events on
// JetStream: one shipment per order under a triple delivery, the fulfilment steps with their events,
// splitting into parcels, cancellation before and after shipping, tracking updates applied once, and
// who may read a shipment (owner, guest with the cart token, staff; nobody else); return labels.
import { createHash, randomUUID } from "node:crypto";
import test from "ava";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { OrderCancelledSchema, OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { ShipmentDeliveredSchema, ShipmentShippedSchema } from "@bazaar/contracts/bazaar/shipping/v1/events_pb";
import { ShipmentStatus, ShippingService, TrackingStatus } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { CART_TOKEN_HEADER } from "@bazaar/platform";
import { bearer, createTestSigner, publishEvent } from "@bazaar/platform/testing";
import { uuidv7 } from "uuidv7";
import { eventually, failure, shippingPerFile, type Harness } from "./helpers.ts";

const shipping = shippingPerFile(test, {}, { seed: true });

const address = { recipientName: "Ada Lovelace", line1: "1 Analytical Way", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US" };

/** Publishes OrderPlaced for a new order (as the order service would) and waits for its shipment. */
async function placed(h: Harness, owner: { userId?: string; cartToken?: string } = {}, lines = [{ sku: "SKU-A", quantity: 2 }, { sku: "SKU-B", quantity: 1 }]) {
  const orderId = uuidv7();
  const event = create(OrderPlacedSchema, {
    eventId: uuidv7(),
    orderId,
    userId: owner.userId ?? "",
    cartTokenHash: owner.cartToken ? createHash("sha256").update(owner.cartToken).digest("hex") : "",
    shippingAddress: address,
    shippingOptionId: "express",
    lines: lines.map((l) => ({ sku: l.sku, quantity: l.quantity, productId: randomUUID() })),
  });
  await publishEvent(OrderPlacedSchema, event);
  const [shipment] = await eventually(`a shipment for order ${orderId}`, async () => {
    const found = await h.sql("select id from shipment where order_id = $1", [orderId]);
    return found.length > 0 ? (await h.admin.listOrderShipments({ orderId })).shipments : undefined;
  });
  return { orderId, event, shipment: shipment! };
}

async function outbox<T>(h: Harness, schema: { typeName: string } & Parameters<typeof fromBinary>[0], orderId: string): Promise<T[]> {
  const rows = await h.sql<{ payload: Buffer }>("select payload from platform_outbox where type_name = $1 order by id", [schema.typeName]);
  return rows.map((row) => fromBinary(schema, row.payload) as unknown as T & { orderId: string }).filter((e) => e.orderId === orderId);
}

test("an order delivered three times (one redelivered id, one re-published) gets exactly one shipment", async (t) => {
  const h = shipping();
  const { orderId, event, shipment } = await placed(h);
  await publishEvent(OrderPlacedSchema, event); // same Nats-Msg-Id
  await publishEvent(OrderPlacedSchema, { ...event, eventId: uuidv7() }); // a new id for the same order
  const marker = await placed(h); // a later order, consumed after the repeats
  t.truthy(marker.shipment);
  const rows = await h.sql("select id from shipment where order_id = $1", [orderId]);
  t.is(rows.length, 1);
  t.is(shipment.status, ShipmentStatus.PENDING);
  t.is(shipment.carrier, "test");
  t.is(shipment.serviceLevel, "express", "the method of the order's option in the address's zone");
  t.deepEqual(shipment.lines.map((l) => [l.sku, l.quantity]), [["SKU-A", 2], ["SKU-B", 1]]);
  t.is((await h.sql("select 1 from platform_outbox where type_name = 'bazaar.shipping.v1.ShipmentCreated'")).length >= 2, true);
});

test("an OrderPlaced without a shipping address (from before shipping existed) makes no shipment", async (t) => {
  const h = shipping();
  const orderId = uuidv7();
  await publishEvent(OrderPlacedSchema, create(OrderPlacedSchema, { eventId: uuidv7(), orderId, lines: [{ sku: "SKU-OLD", quantity: 1 }] }));
  await placed(h); // a later order, consumed after it
  t.deepEqual(await h.sql("select id from shipment where order_id = $1", [orderId]), []);
});

test("staff list shipments to pack by status, option and age, oldest first, page by page", async (t) => {
  const h = shipping();
  const first = await placed(h);
  const second = await placed(h);
  await h.admin.packShipment({ id: second.shipment.id });
  const pending = await h.admin.listShipments({ status: ShipmentStatus.PENDING, optionId: "express", pageSize: 200 });
  const ids = pending.shipments.map((s) => s.id);
  t.true(ids.includes(first.shipment.id));
  t.false(ids.includes(second.shipment.id), "a packed shipment is not waiting to be packed");
  t.deepEqual(ids, [...ids].sort(), "oldest first");
  t.is((await h.admin.listShipments({ optionId: "no-such-option" })).shipments.length, 0);
  const old = await h.admin.listShipments({ createdBefore: { seconds: BigInt(Math.floor(Date.now() / 1000) - 3600) } });
  t.false(old.shipments.some((s) => s.id === first.shipment.id), "not older than an hour");
  const page = await h.admin.listShipments({ pageSize: 1 });
  t.is(page.shipments.length, 1);
  t.truthy(page.nextPageToken);
  const next = await h.admin.listShipments({ pageSize: 1, pageToken: page.nextPageToken });
  t.true(next.shipments[0]!.id > page.shipments[0]!.id);
  t.deepEqual((await failure(h.admin.listShipments({ pageToken: page.nextPageToken, optionId: "express" }))).fields, ["page_token"]);
});

test("pack, label, ship, then the carrier's updates: each step on the timeline, delivered once however often reported", async (t) => {
  const h = shipping();
  const { orderId, shipment } = await placed(h);
  t.is((await failure(h.admin.shipShipment({ id: shipment.id }))).reason, "LABEL_REQUIRED");
  t.is((await failure(h.admin.buyShipmentLabel({ id: shipment.id }))).reason, "SHIPMENT_NOT_PACKED");
  await h.admin.packShipment({ id: shipment.id });
  const labelled = (await h.admin.buyShipmentLabel({ id: shipment.id })).shipment!;
  t.regex(labelled.trackingNumber, /^TEST\d{18}$/);
  t.is((await h.admin.buyShipmentLabel({ id: shipment.id })).shipment!.trackingNumber, labelled.trackingNumber, "buying again returns the same label");
  const shipped = (await h.admin.shipShipment({ id: shipment.id })).shipment!;
  t.is(shipped.status, ShipmentStatus.IN_TRANSIT);
  const [event] = await outbox<{ orderFullyShipped: boolean; trackingNumber: string }>(h, ShipmentShippedSchema, orderId);
  t.true(event!.orderFullyShipped);
  t.is(event!.trackingNumber, labelled.trackingNumber);

  const update = { trackingNumber: labelled.trackingNumber, status: TrackingStatus.DELIVERED, location: "Springfield, IL", updateId: "carrier-evt-1" };
  await h.admin.recordTrackingUpdate({ ...update, status: TrackingStatus.OUT_FOR_DELIVERY, updateId: "carrier-evt-0" });
  await h.admin.recordTrackingUpdate(update);
  const again = (await h.admin.recordTrackingUpdate(update)).shipment!;
  t.is(again.status, ShipmentStatus.DELIVERED);
  t.deepEqual(again.events.map((e) => e.kind), ["created", "packed", "labelled", "shipped", "out_for_delivery", "delivered"]);
  t.is(again.events.at(-1)!.location, "Springfield, IL");
  t.is((await outbox(h, ShipmentDeliveredSchema, orderId)).length, 1, "one ShipmentDelivered");

  const unknown = await failure(h.admin.recordTrackingUpdate({ ...update, trackingNumber: "TEST000", updateId: "x" }));
  t.is(unknown.code, Code.NotFound);
  t.is(unknown.reason, "TRACKING_NUMBER_UNKNOWN");
  const bad = await failure(h.admin.recordTrackingUpdate({ trackingNumber: "", status: TrackingStatus.UNSPECIFIED, updateId: "" }));
  t.deepEqual(bad.fields.sort(), ["status", "tracking_number", "update_id"]);
});

test("a split order is shipped when its last parcel leaves", async (t) => {
  const h = shipping();
  const { orderId, shipment } = await placed(h);
  const tooMany = await failure(h.admin.splitShipment({ id: shipment.id, lines: [{ sku: "SKU-A", quantity: 3 }] }));
  t.deepEqual(tooMany.fields, ["lines[0]"]);
  t.deepEqual((await failure(h.admin.splitShipment({ id: shipment.id, lines: [{ sku: "SKU-A", quantity: 2 }, { sku: "SKU-B", quantity: 1 }] }))).fields, ["lines"]);
  const { shipment: rest, parcel } = await h.admin.splitShipment({ id: shipment.id, lines: [{ sku: "SKU-A", quantity: 1 }] });
  t.deepEqual(rest!.lines.map((l) => [l.sku, l.quantity]), [["SKU-A", 1], ["SKU-B", 1]]);
  t.deepEqual(parcel!.lines.map((l) => [l.sku, l.quantity]), [["SKU-A", 1]]);
  for (const id of [rest!.id, parcel!.id]) {
    await h.admin.packShipment({ id });
    await h.admin.buyShipmentLabel({ id });
    await h.admin.shipShipment({ id });
  }
  const events = await outbox<{ orderFullyShipped: boolean }>(h, ShipmentShippedSchema, orderId);
  t.deepEqual(events.map((e) => e.orderFullyShipped), [false, true]);
});

test("cancelling the order cancels its shipment before it ships; after it left, a cancellation is refused with a reason", async (t) => {
  const h = shipping();
  const first = await placed(h);
  await publishEvent(OrderCancelledSchema, create(OrderCancelledSchema, { eventId: uuidv7(), orderId: first.orderId, reason: "changed my mind" }));
  const cancelled = await eventually("the shipment cancelled", async () => {
    const { shipment } = await h.admin.getShipment({ id: first.shipment.id });
    return shipment!.status === ShipmentStatus.CANCELLED ? shipment : undefined;
  });
  t.is(cancelled!.events.at(-1)!.description, "changed my mind");

  const second = await placed(h);
  await h.admin.packShipment({ id: second.shipment.id });
  await h.admin.buyShipmentLabel({ id: second.shipment.id });
  await h.admin.shipShipment({ id: second.shipment.id });
  const refused = await failure(h.admin.cancelShipment({ id: second.shipment.id, reason: "too late" }));
  t.is(refused.code, Code.FailedPrecondition);
  t.is(refused.reason, "SHIPMENT_ALREADY_SHIPPED");
  t.regex(refused.message, /already left/);
});

test("a shopper reads their own shipments, a guest with the cart token; anyone else gets NOT_FOUND", async (t) => {
  const h = shipping();
  const signer = await createTestSigner();
  // The harness's service trusts its own signer; clients for users are made from its admin's signer below.
  const ownerId = randomUUID();
  const cartToken = `ct_${randomUUID()}`;
  const mine = await placed(h, { userId: ownerId });
  const guests = await placed(h, { cartToken });
  const as = (token?: string, guestToken?: string) => {
    const header: Interceptor = (next) => (request) => {
      if (guestToken) request.header.set(CART_TOKEN_HEADER, guestToken);
      return next(request);
    };
    return createClient(ShippingService, createGrpcTransport({ baseUrl: `http://${h.service.address}`, interceptors: [bearer(token), header] }));
  };
  const owner = as(await h.signer.token({ subject: ownerId, roles: ["customer"] }));
  const stranger = as(await h.signer.token({ subject: randomUUID(), roles: ["customer"] }));
  t.is((await owner.getShipment({ id: mine.shipment.id })).shipment!.labelUrl, "", "shoppers do not get the label");
  t.is((await owner.listOrderShipments({ orderId: mine.orderId })).shipments.length, 1);
  t.is((await failure(stranger.getShipment({ id: mine.shipment.id }))).code, Code.NotFound);
  t.is((await failure(stranger.listOrderShipments({ orderId: mine.orderId }))).code, Code.NotFound);
  t.is((await failure(owner.getShipment({ id: guests.shipment.id }))).code, Code.NotFound);

  t.is((await as(undefined, cartToken).getShipment({ id: guests.shipment.id })).shipment!.id, guests.shipment.id);
  t.is((await failure(as(undefined, "ct_wrong").getShipment({ id: guests.shipment.id }))).code, Code.NotFound);
  t.is((await failure(as(undefined, cartToken).getShipment({ id: mine.shipment.id }))).code, Code.NotFound);
  t.is((await failure(as(await signer.token({ roles: ["admin"] })).packShipment({ id: mine.shipment.id }))).code, Code.Unauthenticated, "a token the service does not trust");
  t.is((await failure(owner.packShipment({ id: mine.shipment.id }))).code, Code.PermissionDenied);
});

test("a return label comes from the carrier of the order's shipment, the same for the same return; services and staff only; bad ids refused", async (t) => {
  const h = shipping();
  const { orderId, shipment } = await placed(h);
  const returnId = uuidv7();
  const label = await h.returns.buyReturnLabel({ orderId, returnId });
  t.is(label.carrier, shipment.carrier);
  t.regex(label.trackingNumber, /^TEST\d{18}$/);
  t.is(label.labelUrl, `https://carrier.test/labels/${label.trackingNumber}.pdf`);
  t.deepEqual(await h.admin.buyReturnLabel({ orderId, returnId }), label, "asked again: the same label");
  t.not((await h.admin.buyReturnLabel({ orderId, returnId: uuidv7() })).trackingNumber, label.trackingNumber, "another return, another label");
  t.is((await h.admin.getShipment({ id: shipment.id })).shipment!.trackingNumber, "", "the outbound shipment is untouched");

  t.is((await failure(h.customer.buyReturnLabel({ orderId, returnId }))).code, Code.PermissionDenied);
  t.is((await failure(h.anonymous.buyReturnLabel({ orderId, returnId }))).code, Code.Unauthenticated);
  const bad = await failure(h.admin.buyReturnLabel({ orderId: "nope", returnId: "" }));
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields, ["order_id", "return_id"]);
  const none = await failure(h.admin.buyReturnLabel({ orderId: uuidv7(), returnId }));
  t.is(none.code, Code.NotFound);
  t.is(none.reason, "SHIPMENT_NOT_FOUND");
});
