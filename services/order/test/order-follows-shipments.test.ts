// The order follows its shipments end to end: a confirmed order gets one shipment from its
// OrderPlaced; packing makes it FULFILLING, shipping SHIPPED, delivery DELIVERED (each in its history);
// cancelling before it ships cancels the shipment; after it shipped, cancellation is refused.
import test from "ava";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { ShipmentStatus, TrackingStatus } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { Code, eventually, failure, guestCart, meshPerFile, placeRequest, sellable, type Mesh } from "./helpers.ts";

const mesh = meshPerFile(test);

async function confirmedOrder(m: Mesh) {
  const sku = await sellable(m, { price: 1500, stock: 10 });
  const { cartId, token } = await guestCart(m, [{ sku, quantity: 1 }]);
  const { order } = await m.orders.guest(token).placeOrder(placeRequest(cartId, { shippingOptionId: "express" }));
  const shipment = await eventually(`the shipment of order ${order!.id}`, async () => {
    const { shipments } = await m.shippingAdmin.listOrderShipments({ orderId: order!.id }).catch(() => ({ shipments: [] }));
    return shipments[0];
  });
  return { order: order!, token, shipment };
}

const statusOf = async (m: Mesh, orderId: string) => (await m.orders.admin.getOrder({ orderId })).order!;
const reaches = (m: Mesh, orderId: string, status: OrderStatus) =>
  eventually(`order ${orderId} ${OrderStatus[status]}`, async () => {
    const order = await statusOf(m, orderId);
    return order.status === status ? order : undefined;
  });

test("packing, shipping and delivery move the order FULFILLING → SHIPPED → DELIVERED, each in its history", async (t) => {
  const m = mesh();
  const { order, shipment } = await confirmedOrder(m);
  t.is(shipment.serviceLevel, "express");
  await m.shippingAdmin.packShipment({ id: shipment.id });
  await reaches(m, order.id, OrderStatus.FULFILLING);
  const { shipment: labelled } = await m.shippingAdmin.buyShipmentLabel({ id: shipment.id });
  await m.shippingAdmin.shipShipment({ id: shipment.id });
  await reaches(m, order.id, OrderStatus.SHIPPED);
  const cancel = await failure(m.orders.admin.cancelOrder({ orderId: order.id, reason: "too late" }));
  t.is(cancel.code, Code.FailedPrecondition);
  t.regex(cancel.message, /SHIPPED/);
  await m.shippingAdmin.recordTrackingUpdate({ trackingNumber: labelled!.trackingNumber, status: TrackingStatus.DELIVERED, updateId: `d-${shipment.id}` });
  const delivered = await reaches(m, order.id, OrderStatus.DELIVERED);
  t.deepEqual(
    delivered.history.map((h) => OrderStatus[h.status]),
    ["PENDING", "CONFIRMED", "FULFILLING", "SHIPPED", "DELIVERED"],
  );
});

test("cancelling an order before it ships cancels its shipment", async (t) => {
  const m = mesh();
  const { order, token, shipment } = await confirmedOrder(m);
  await m.orders.guest(token).cancelOrder({ orderId: order.id, reason: "changed my mind" });
  const cancelled = await eventually("the shipment cancelled", async () => {
    const { shipment: s } = await m.shippingAdmin.getShipment({ id: shipment.id });
    return s!.status === ShipmentStatus.CANCELLED ? s : undefined;
  });
  t.is(cancelled.status, ShipmentStatus.CANCELLED);
  t.is((await failure(m.shippingAdmin.packShipment({ id: shipment.id }))).reason, "SHIPMENT_NOT_PENDING");
});
