// The test carrier's signed tracking webhook against a real shipping service: a good delivery applies,
// a redelivered update applies once, and a bad signature, an old timestamp, a replayed delivery, an
// unknown tracking number or a malformed body are refused and change nothing.
import { randomUUID } from "node:crypto";
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { ShipmentStatus } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { publishEvent } from "@bazaar/platform/testing";
import { uuidv7 } from "uuidv7";
import { signCarrierWebhook } from "../src/index.ts";
import { eventually, shippingPerFile, type Harness } from "./helpers.ts";

const SECRET = "whsec_webhook_test_secret_0123";
const shipping = shippingPerFile(test, { SHIPPING_TEST_CARRIER_WEBHOOK_SECRET: SECRET }, { seed: true });

/** A shipment handed to the test carrier: its id and tracking number. */
async function shipped(h: Harness) {
  const orderId = uuidv7();
  await publishEvent(
    OrderPlacedSchema,
    create(OrderPlacedSchema, {
      eventId: uuidv7(),
      orderId,
      shippingAddress: { recipientName: "A", line1: "1 Way", city: "Paris", postalCode: "75001", countryCode: "FR" },
      shippingOptionId: "standard",
      lines: [{ sku: "SKU-W", quantity: 1, productId: randomUUID() }],
    }),
  );
  const id = await eventually(`the shipment of ${orderId}`, async () => (await h.sql<{ id: string }>("select id from shipment where order_id = $1", [orderId]))[0]?.id);
  await h.admin.packShipment({ id });
  const { shipment } = await h.admin.buyShipmentLabel({ id });
  await h.admin.shipShipment({ id });
  return { id, trackingNumber: shipment!.trackingNumber };
}

async function post(h: Harness, body: string, options: { secret?: string; timestamp?: number; signature?: string } = {}) {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = options.signature ?? signCarrierWebhook(options.secret ?? SECRET, timestamp, body);
  const response = await fetch(`http://${h.service.address}/webhooks/carrier/test`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-carrier-timestamp": String(timestamp), "x-carrier-signature": signature },
    body,
  });
  return { status: response.status, text: await response.text(), signature, timestamp };
}

const update = (trackingNumber: string, status: string, updateId: string = randomUUID()) =>
  JSON.stringify({ update_id: updateId, tracking_number: trackingNumber, status, location: "Lyon", description: `${status} update` });

test("a signed update applies; the same update delivered again (new signature) applies once", async (t) => {
  const h = shipping();
  const { id, trackingNumber } = await shipped(h);
  const body = update(trackingNumber, "delivered", "evt-delivered-1");
  t.is((await post(h, body)).status, 200);
  // The carrier retries the same update a second later: a new delivery, the same update id.
  t.is((await post(h, body, { timestamp: Math.floor(Date.now() / 1000) + 1 })).status, 200);
  const { shipment } = await h.admin.getShipment({ id });
  t.is(shipment!.status, ShipmentStatus.DELIVERED);
  t.is(shipment!.events.filter((e) => e.kind === "delivered").length, 1);
  t.is((await h.sql("select 1 from platform_outbox where type_name = 'bazaar.shipping.v1.ShipmentDelivered'")).length, 1);
});

test("a bad signature, an old timestamp or a replayed delivery is 401; an unknown tracking number 404; a malformed body 400; none changes anything", async (t) => {
  const h = shipping();
  const { id, trackingNumber } = await shipped(h);
  const body = update(trackingNumber, "exception");
  t.is((await post(h, body, { secret: "whsec_someone_else_entirely" })).status, 401);
  t.is((await post(h, body, { signature: "00".repeat(32) })).status, 401);
  t.is((await post(h, body, { timestamp: Math.floor(Date.now() / 1000) - 301 })).status, 401);
  const first = await post(h, update(trackingNumber, "in_transit", "evt-transit"));
  t.is(first.status, 200);
  const replay = await post(h, update(trackingNumber, "in_transit", "evt-transit"), { timestamp: first.timestamp, signature: first.signature });
  t.is(replay.status, 401);
  t.regex(replay.text, /replay/);
  t.is((await post(h, update("TEST000000000000000000", "delivered"))).status, 404);
  t.is((await post(h, JSON.stringify({ tracking_number: trackingNumber, status: "teleported" }))).status, 400);
  const { shipment } = await h.admin.getShipment({ id });
  t.is(shipment!.status, ShipmentStatus.IN_TRANSIT);
  t.deepEqual(shipment!.events.map((e) => e.kind), ["created", "packed", "labelled", "shipped", "in_transit"]);
});
