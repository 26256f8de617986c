// A deleted account's parcels: delivered ones lose the address at once (only the country stays);
// one still on its way keeps it until it is delivered, then loses it. Identity's UserDeleted through
// the shipping service's consumer; other people's parcels are untouched.
import { randomUUID } from "node:crypto";
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { OrderPlacedSchema } from "@bazaar/contracts/bazaar/order/v1/events_pb";
import { TrackingStatus } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { bearer, failure, publishEvent } from "@bazaar/platform/testing";
import { uuidv7 } from "uuidv7";
import { eventually, shippingPerFile, type Harness } from "./helpers.ts";

const shipping = shippingPerFile(test, {}, { seed: true });

const address = { recipientName: "Ada Lovelace", line1: "1 Analytical Way", city: "Springfield", region: "IL", postalCode: "62701", countryCode: "US", phone: "+15550100" };
const erased = { recipientName: "", line1: "", line2: "", city: "", region: "", postalCode: "", phone: "", countryCode: "US" };

async function shipmentFor(h: Harness, userId: string): Promise<string> {
  const orderId = uuidv7();
  await publishEvent(
    OrderPlacedSchema,
    create(OrderPlacedSchema, { eventId: uuidv7(), orderId, userId, shippingAddress: address, shippingOptionId: "standard", lines: [{ sku: "SKU-A", quantity: 1, productId: randomUUID() }] }),
  );
  const [row] = await eventually(`a shipment for order ${orderId}`, async () => {
    const found = await h.sql<{ id: string }>("select id from shipment where order_id = $1", [orderId]);
    return found.length > 0 ? found : undefined;
  });
  return row!.id;
}

async function ship(h: Harness, id: string): Promise<string> {
  await h.admin.packShipment({ id });
  const { shipment } = await h.admin.buyShipmentLabel({ id });
  await h.admin.shipShipment({ id });
  return shipment!.trackingNumber;
}

const addressOf = async (h: Harness, id: string) => (await h.sql<{ address: Record<string, string> }>("select address from shipment where id = $1", [id]))[0]!.address;

test("UserDeleted anonymises delivered parcels at once and one in transit once it is delivered; another user's keeps its address", async (t) => {
  const h = shipping();
  const leaving = randomUUID();
  const staying = randomUUID();
  const delivered = await shipmentFor(h, leaving);
  const onItsWay = await shipmentFor(h, leaving);
  const others = await shipmentFor(h, staying);
  const deliveredTracking = await ship(h, delivered);
  await h.admin.recordTrackingUpdate({ trackingNumber: deliveredTracking, status: TrackingStatus.DELIVERED, updateId: `d-${delivered}` });
  const othersTracking = await ship(h, others);
  await h.admin.recordTrackingUpdate({ trackingNumber: othersTracking, status: TrackingStatus.DELIVERED, updateId: `d-${others}` });
  const onItsWayTracking = await ship(h, onItsWay);

  const deleted = create(UserDeletedSchema, { eventId: randomUUID(), userId: leaving });
  await publishEvent(UserDeletedSchema, deleted);
  await publishEvent(UserDeletedSchema, deleted);
  await eventually("the delivered parcel anonymised", async () => (await addressOf(h, delivered)).recipientName === "");
  t.deepEqual(await addressOf(h, delivered), erased);
  t.like(await addressOf(h, onItsWay), address, "the carrier still needs where to go");
  t.like(await addressOf(h, others), address);

  await h.admin.recordTrackingUpdate({ trackingNumber: onItsWayTracking, status: TrackingStatus.DELIVERED, updateId: `d-${onItsWay}` });
  t.deepEqual(await addressOf(h, onItsWay), erased);
  t.like(await addressOf(h, others), address);
});

test("identity's export gets the user's shipments with address and lines, none of another user's; cart's token is refused", async (t) => {
  const h = shipping();
  const [mine, theirs] = [randomUUID(), randomUUID()];
  const parcel = await shipmentFor(h, mine);
  const other = await shipmentFor(h, theirs);
  const holder = async (service: string) =>
    createClient(PersonalDataService, createGrpcTransport({ baseUrl: `http://${h.service.address}`, interceptors: [bearer(await h.signer.token({ subject: service, service: true }))] }));
  const part = JSON.parse((await (await holder("identity")).exportPersonalData({ userId: mine })).json) as { shipments: Record<string, unknown>[] };
  t.deepEqual(part.shipments.map((s) => s.id), [parcel]);
  t.like(part.shipments[0]!.address as object, { recipientName: "Ada Lovelace", line1: "1 Analytical Way" });
  t.deepEqual((part.shipments[0]!.lines as { sku: string }[]).map((l) => l.sku), ["SKU-A"]);
  t.false(JSON.stringify(part).includes(other));
  const refused = await failure((await holder("cart")).exportPersonalData({ userId: mine }));
  t.is(refused.code, Code.PermissionDenied);
});
