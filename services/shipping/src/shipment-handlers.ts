// The fulfilment and tracking RPCs of ShippingService: staff move shipments (admins only); shoppers
// read their own (a guest with the cart token); carriers' updates arrive through RecordTrackingUpdate.
import { ADMIN_ROLE, CART_TOKEN_HEADER, checkId, checkSku, checkText, currentPrincipal, NotFoundError, readPage, requireRole, requireServiceOrRole } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  ShipmentEventSchema,
  ShipmentLineSchema,
  ShipmentSchema,
  ShipmentStatus,
  TrackingStatus,
  type Shipment,
  type ShippingService,
} from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import type { TrackingKind } from "./carrier.ts";
import { readable } from "./shipment-access.ts";
import { SHIPMENTS_ORDER, type ShipmentStatusName, type Shipments, type ShipmentView } from "./shipments.ts";
import { PAGE_SIZE, violations } from "./validation.ts";

type ShipmentMethods =
  | "listShipments"
  | "getShipment"
  | "listOrderShipments"
  | "packShipment"
  | "buyShipmentLabel"
  | "shipShipment"
  | "splitShipment"
  | "cancelShipment"
  | "recordTrackingUpdate"
  | "buyReturnLabel";

const statuses: Record<ShipmentStatusName, ShipmentStatus> = {
  pending: ShipmentStatus.PENDING,
  packed: ShipmentStatus.PACKED,
  labelled: ShipmentStatus.LABELLED,
  in_transit: ShipmentStatus.IN_TRANSIT,
  out_for_delivery: ShipmentStatus.OUT_FOR_DELIVERY,
  delivered: ShipmentStatus.DELIVERED,
  exception: ShipmentStatus.EXCEPTION,
  cancelled: ShipmentStatus.CANCELLED,
};
const statusNames = new Map<ShipmentStatus, ShipmentStatusName>(Object.entries(statuses).map(([name, status]) => [status, name as ShipmentStatusName]));

const trackingKinds = new Map<TrackingStatus, TrackingKind>([
  [TrackingStatus.IN_TRANSIT, "in_transit"],
  [TrackingStatus.OUT_FOR_DELIVERY, "out_for_delivery"],
  [TrackingStatus.DELIVERED, "delivered"],
  [TrackingStatus.EXCEPTION, "exception"],
]);

/** Staff see the label; shoppers see the rest. */
export function shipmentMessage(s: ShipmentView, staff: boolean): Shipment {
  return create(ShipmentSchema, {
    id: s.id,
    orderId: s.orderId,
    status: statuses[s.status],
    optionId: s.optionId,
    carrier: s.carrier,
    serviceLevel: s.serviceLevel,
    address: s.address as Shipment["address"],
    lines: s.lines.map((line) => create(ShipmentLineSchema, line)),
    trackingNumber: s.trackingNumber,
    trackingUrl: s.trackingUrl,
    labelUrl: staff ? s.labelUrl : "",
    events: s.events.map((e) => create(ShipmentEventSchema, { kind: e.kind, description: e.description, location: e.location, occurTime: timestampFromDate(e.occurredAt) })),
    createTime: timestampFromDate(s.createdAt),
    updateTime: timestampFromDate(s.updatedAt),
  });
}

const requireStaff = () => void requireRole(ADMIN_ROLE);
const isStaff = () => currentPrincipal()?.roles.includes(ADMIN_ROLE) ?? false;
const cartTokenOf = (context: HandlerContext) => context.requestHeader.get(CART_TOKEN_HEADER) ?? "";

export function shipmentHandlers(shipments: Shipments): Pick<ServiceImpl<typeof ShippingService>, ShipmentMethods> {
  /** One id, staff only, then `act`. */
  const staffAction = async (id: string, act: (id: string) => Promise<ShipmentView>) => {
    requireStaff();
    const v = violations();
    const checked = checkId(v, "id", id);
    v.throwIfAny();
    return { shipment: shipmentMessage(await act(checked), true) };
  };

  return {
    async listShipments(request) {
      requireStaff();
      const v = violations();
      const status = request.status === ShipmentStatus.UNSPECIFIED ? undefined : statusNames.get(request.status);
      v.check(request.status === ShipmentStatus.UNSPECIFIED || status, "status", "is not a shipment status");
      const createdBefore = request.createdBefore ? timestampDate(request.createdBefore) : undefined;
      const filter = { status, optionId: request.optionId === "" ? undefined : request.optionId, createdBefore };
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListShipments", ...filter, createdBefore: createdBefore?.toISOString() }, SHIPMENTS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await shipments.list(page, filter);
      return { shipments: rows.map((s) => shipmentMessage(s, true)), nextPageToken };
    },

    async getShipment(request, context) {
      const v = violations();
      const id = checkId(v, "id", request.id);
      v.throwIfAny();
      const shipment = readable(await shipments.get(id), currentPrincipal(), cartTokenOf(context));
      return { shipment: shipmentMessage(shipment, isStaff()) };
    },

    async listOrderShipments(request, context) {
      const v = violations();
      const orderId = checkId(v, "order_id", request.orderId);
      v.throwIfAny();
      const principal = currentPrincipal();
      const token = cartTokenOf(context);
      const mine = (await shipments.ofOrder(orderId)).filter((s) => {
        try {
          return readable(s, principal, token) !== undefined;
        } catch {
          return false;
        }
      });
      if (mine.length === 0) throw new NotFoundError(`no shipments of order ${orderId}`, { reason: "SHIPMENT_NOT_FOUND" });
      return { shipments: mine.map((s) => shipmentMessage(s, isStaff())) };
    },

    async buyReturnLabel(request) {
      // The returns service on its own authority, or staff.
      requireServiceOrRole(ADMIN_ROLE, "return labels are bought by the returns service and admins");
      const v = violations();
      const orderId = checkId(v, "order_id", request.orderId);
      const returnId = checkId(v, "return_id", request.returnId);
      v.throwIfAny();
      const label = await shipments.buyReturnLabel(orderId, returnId);
      return { carrier: label.carrier, trackingNumber: label.trackingNumber, labelUrl: label.labelUrl, trackingUrl: label.trackingUrl };
    },

    packShipment: (request) => staffAction(request.id, shipments.pack),
    buyShipmentLabel: (request) => staffAction(request.id, (id) => shipments.buyLabel(id)),
    shipShipment: (request) => staffAction(request.id, shipments.ship),

    async splitShipment(request) {
      requireStaff();
      const v = violations();
      const id = checkId(v, "id", request.id);
      if (v.check(request.lines.length > 0, "lines", "must name the units to move")) {
        request.lines.forEach((line, i) => {
          checkSku(v, `lines[${i}].sku`, line.sku);
          v.check(line.quantity >= 1 && line.quantity <= 999, `lines[${i}].quantity`, "must be 1–999");
        });
        v.check(new Set(request.lines.map((l) => l.sku)).size === request.lines.length, "lines", "must name each SKU once");
      }
      v.throwIfAny();
      const { shipment, parcel } = await shipments.split(id, request.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })));
      return { shipment: shipmentMessage(shipment, true), parcel: shipmentMessage(parcel, true) };
    },

    async cancelShipment(request) {
      requireStaff();
      const v = violations();
      const id = checkId(v, "id", request.id);
      checkText(v, "reason", request.reason, { min: 0, max: 500, codePoints: true });
      v.throwIfAny();
      return { shipment: shipmentMessage(await shipments.cancel(id, request.reason), true) };
    },

    async recordTrackingUpdate(request) {
      requireStaff();
      const v = violations();
      const kind = trackingKinds.get(request.status);
      v.check(kind, "status", "must be IN_TRANSIT, OUT_FOR_DELIVERY, DELIVERED or EXCEPTION");
      checkText(v, "tracking_number", request.trackingNumber, { min: 1, max: 64 });
      checkText(v, "update_id", request.updateId, { min: 1, max: 200 });
      checkText(v, "description", request.description, { min: 0, max: 500, codePoints: true });
      checkText(v, "location", request.location, { min: 0, max: 200, codePoints: true });
      v.throwIfAny();
      const shipment = await shipments.recordTracking({
        trackingNumber: request.trackingNumber,
        kind: kind!,
        description: request.description,
        location: request.location,
        updateKey: request.updateId,
        ...(request.occurTime ? { occurredAt: timestampDate(request.occurTime) } : {}),
      });
      return { shipment: shipmentMessage(shipment, true) };
    },
  };
}
