// Shipments: made once per paid order from its OrderPlaced, moved through packing, label, hand-over
// and the carrier's tracking updates, split into parcels and cancelled before they leave. Every change
// locks the order's shipments first (so "every parcel has left" is decided on a consistent set) and
// publishes its event through the outbox in the same transaction.
import {
  FailedPreconditionError,
  InvalidArgumentError,
  keysetPage,
  NotFoundError,
  publish,
  UnavailableError,
  type Database,
  type EntityManager,
  type Keyset,
  type Page,
  type PageCursor,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ShipmentCancelledSchema,
  ShipmentCreatedSchema,
  ShipmentDeliveredSchema,
  ShipmentExceptionSchema,
  ShipmentPackedSchema,
  ShipmentShippedSchema,
} from "@bazaar/contracts/bazaar/shipping/v1/events_pb";
import { sql } from "kysely";
import { uuidv7 } from "uuidv7";
import type { CarrierPort, Label, TrackingKind } from "./carrier.ts";
import { mostSpecific, normalizeDestination } from "./zone-match.ts";
import { tables } from "./zones.ts";

export type ShipmentStatusName = "pending" | "packed" | "labelled" | "in_transit" | "out_for_delivery" | "delivered" | "exception" | "cancelled";

export interface ShipmentLineView {
  sku: string;
  quantity: number;
}

export interface ShipmentEventView {
  kind: string;
  description: string;
  location: string;
  occurredAt: Date;
}

export interface ShipmentView {
  id: string;
  orderId: string;
  origin: "order" | "split";
  userId: string;
  cartTokenHash: string;
  status: ShipmentStatusName;
  optionId: string;
  carrier: string;
  serviceLevel: string;
  address: Record<string, unknown>;
  lines: ShipmentLineView[];
  trackingNumber: string;
  trackingUrl: string;
  labelUrl: string;
  createdAt: Date;
  updatedAt: Date;
  events: ShipmentEventView[];
}

/** Left the warehouse: cancelling is refused from here on. */
const LEFT: readonly ShipmentStatusName[] = ["in_transit", "out_for_delivery", "delivered", "exception"];

const shipmentSelection = [
  "id",
  "order_id as orderId",
  "origin",
  "user_id as userId",
  "cart_token_hash as cartTokenHash",
  "status",
  "option_id as optionId",
  "carrier",
  "service_level as serviceLevel",
  "address",
  "lines",
  "tracking_number as trackingNumber",
  "tracking_url as trackingUrl",
  "label_url as labelUrl",
  "created_at as createdAt",
  "updated_at as updatedAt",
] as const;

const parsed = <T>(value: unknown): T => (typeof value === "string" ? JSON.parse(value) : value) as T;


function toShipment(row: Record<string, unknown>, events: ShipmentEventView[] = []): ShipmentView {
  return {
    id: String(row.id),
    orderId: String(row.orderId),
    origin: row.origin as "order" | "split",
    userId: String(row.userId),
    cartTokenHash: String(row.cartTokenHash),
    status: row.status as ShipmentStatusName,
    optionId: String(row.optionId),
    carrier: String(row.carrier),
    serviceLevel: String(row.serviceLevel),
    address: parsed<Record<string, unknown>>(row.address),
    lines: parsed<ShipmentLineView[]>(row.lines),
    trackingNumber: row.trackingNumber == null ? "" : String(row.trackingNumber),
    trackingUrl: String(row.trackingUrl),
    labelUrl: String(row.labelUrl),
    createdAt: row.createdAt as Date,
    updatedAt: row.updatedAt as Date,
    events,
  };
}

async function eventsOf(em: EntityManager, ids: readonly string[]): Promise<Map<string, ShipmentEventView[]>> {
  const byShipment = new Map<string, ShipmentEventView[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byShipment;
  const rows = await tables(em)
    .selectFrom("shipment_event")
    .select(["shipment_id", "kind", "description", "location", "occurred_at"])
    .where("shipment_id", "in", ids)
    .orderBy("occurred_at")
    .orderBy("id")
    .execute();
  for (const row of rows) byShipment.get(row.shipment_id)?.push({ kind: row.kind, description: row.description, location: row.location, occurredAt: row.occurred_at });
  return byShipment;
}

async function withEvents(em: EntityManager, rows: Record<string, unknown>[]): Promise<ShipmentView[]> {
  const events = await eventsOf(em, rows.map((row) => String(row.id)));
  return rows.map((row) => toShipment(row, events.get(String(row.id))));
}

async function addEvent(em: EntityManager, shipmentId: string, kind: string, description: string, extra: { location?: string; updateKey?: string; occurredAt?: Date } = {}): Promise<boolean> {
  const inserted = await tables(em)
    .insertInto("shipment_event")
    .values({
      id: uuidv7(),
      shipment_id: shipmentId,
      kind,
      description,
      location: extra.location ?? "",
      update_key: extra.updateKey ?? null,
      ...(extra.occurredAt ? { occurred_at: extra.occurredAt } : {}),
    })
    .onConflict((oc) => oc.column("update_key").doNothing())
    .returning("id")
    .execute();
  return inserted.length > 0;
}

/** The order's shipments, locked (by id, one lock order for every writer). */
async function lockOrder(em: EntityManager, orderId: string): Promise<ShipmentView[]> {
  const rows = await tables(em).selectFrom("shipment").select(shipmentSelection).where("order_id", "=", orderId).orderBy("id").forUpdate().execute();
  return rows.map((row) => toShipment(row));
}

async function lockShipment(em: EntityManager, id: string): Promise<{ shipment: ShipmentView; siblings: ShipmentView[] }> {
  const found = await tables(em).selectFrom("shipment").select("order_id").where("id", "=", id).executeTakeFirst();
  if (!found) throw new NotFoundError(`no shipment ${id}`, { reason: "SHIPMENT_NOT_FOUND" });
  const siblings = await lockOrder(em, found.order_id);
  return { shipment: siblings.find((s) => s.id === id)!, siblings };
}

async function setStatus(em: EntityManager, id: string, status: ShipmentStatusName, extra: Record<string, unknown> = {}): Promise<void> {
  await tables(em)
    .updateTable("shipment")
    .set((eb) => ({ status, ...extra, version: eb("version", "+", 1), updated_at: sql`clock_timestamp()` }))
    .where("id", "=", id)
    .execute();
}

async function reread(em: EntityManager, id: string): Promise<ShipmentView> {
  const row = await tables(em).selectFrom("shipment").select(shipmentSelection).where("id", "=", id).executeTakeFirstOrThrow();
  return (await withEvents(em, [row]))[0]!;
}

export interface OrderForShipment {
  orderId: string;
  userId: string;
  cartTokenHash: string;
  optionId: string;
  address: Record<string, unknown> & { countryCode?: string; region?: string; postalCode?: string };
  lines: ShipmentLineView[];
}

/** The carrier and service level of the order's option in the address's zone (the test carrier when it is gone). */
async function methodFor(em: EntityManager, order: OrderForShipment): Promise<{ carrier: string; serviceLevel: string }> {
  const destination = normalizeDestination({
    countryCode: String(order.address.countryCode ?? ""),
    region: String(order.address.region ?? ""),
    postalCode: String(order.address.postalCode ?? ""),
  });
  const areas = await tables(em)
    .selectFrom("shipping_zone_area")
    .select(["zone_id as zoneId", "country_code as countryCode", "region", "postal_prefix as postalPrefix"])
    .where("country_code", "=", destination.countryCode)
    .execute();
  const zone = mostSpecific(areas, destination);
  const method = zone
    ? await tables(em).selectFrom("shipping_method").select(["carrier", "service_level"]).where("zone_id", "=", zone.zoneId).where("code", "=", order.optionId).executeTakeFirst()
    : undefined;
  return { carrier: method?.carrier ?? "test", serviceLevel: method?.service_level ?? "standard" };
}

/** The order's shipment, once: a repeated (redelivered or re-published) OrderPlaced inserts nothing. */
export async function createFromOrder(em: EntityManager, order: OrderForShipment): Promise<boolean> {
  const { carrier, serviceLevel } = await methodFor(em, order);
  const id = uuidv7();
  const inserted = await tables(em)
    .insertInto("shipment")
    .values({
      id,
      order_id: order.orderId,
      origin: "order",
      user_id: order.userId,
      cart_token_hash: order.cartTokenHash,
      status: "pending",
      option_id: order.optionId,
      carrier,
      service_level: serviceLevel,
      address: order.address,
      lines: order.lines,
    })
    .onConflict((oc) => oc.column("order_id").where("origin", "=", "order").doNothing())
    .returning("id")
    .execute();
  if (inserted.length === 0) return false;
  await addEvent(em, id, "created", "Waiting to be packed");
  await publish(em, ShipmentCreatedSchema, create(ShipmentCreatedSchema, { shipmentId: id, orderId: order.orderId, optionId: order.optionId }));
  return true;
}

async function cancelOne(em: EntityManager, shipment: ShipmentView, reason: string, carriers: Carriers): Promise<void> {
  if (shipment.trackingNumber) await carrierOf(carriers, shipment.carrier).cancelLabel(shipment.trackingNumber);
  await setStatus(em, shipment.id, "cancelled");
  await addEvent(em, shipment.id, "cancelled", reason || "Cancelled");
  await publish(em, ShipmentCancelledSchema, create(ShipmentCancelledSchema, { shipmentId: shipment.id, orderId: shipment.orderId, reason }));
}

/** The order was cancelled: its shipments that have not left are cancelled (those that left stay). */
export async function cancelForOrder(em: EntityManager, orderId: string, reason: string, carriers: Carriers): Promise<number> {
  const open = (await lockOrder(em, orderId)).filter((s) => s.status === "pending" || s.status === "packed" || s.status === "labelled");
  for (const shipment of open) await cancelOne(em, shipment, reason, carriers);
  return open.length;
}

export type Carriers = ReadonlyMap<string, CarrierPort>;

function carrierOf(carriers: Carriers, name: string): CarrierPort {
  const carrier = carriers.get(name);
  if (!carrier) throw new FailedPreconditionError(`no adapter for the carrier "${name}" is configured`, { reason: "CARRIER_NOT_CONFIGURED" });
  return carrier;
}

export interface Shipments {
  get(id: string): Promise<ShipmentView>;
  ofOrder(orderId: string): Promise<ShipmentView[]>;
  list(page: PageCursor, filter: { status?: ShipmentStatusName; optionId?: string; createdBefore?: Date }): Promise<Page<ShipmentView>>;
  pack(id: string): Promise<ShipmentView>;
  buyLabel(id: string): Promise<ShipmentView>;
  /** A return label for an order's goods, from its delivery address back, idempotent by return. */
  buyReturnLabel(orderId: string, returnId: string): Promise<Label & { carrier: string }>;
  ship(id: string): Promise<ShipmentView>;
  split(id: string, lines: ShipmentLineView[]): Promise<{ shipment: ShipmentView; parcel: ShipmentView }>;
  cancel(id: string, reason: string): Promise<ShipmentView>;
  /** A carrier's update; applies once per `updateKey`. */
  recordTracking(update: { trackingNumber: string; kind: TrackingKind; description: string; location: string; updateKey: string; occurredAt?: Date }): Promise<ShipmentView>;
}

/** Shipments oldest first (ids are UUIDv7). */
export const SHIPMENTS_ORDER: Keyset = { columns: ["id"], direction: "asc" };

const trackingKindText: Record<TrackingKind, string> = {
  in_transit: "In transit",
  out_for_delivery: "Out for delivery",
  delivered: "Delivered",
  exception: "Delivery problem",
};

export function createShipments(options: { database: Database; carriers: Carriers }): Shipments {
  const { database, carriers } = options;
  const refuse = (message: string, reason: string, shipment: ShipmentView) =>
    new FailedPreconditionError(message, { reason, metadata: { shipment_id: shipment.id, status: shipment.status } });

  return {
    async get(id) {
      const em = database.em();
      const row = await tables(em).selectFrom("shipment").select(shipmentSelection).where("id", "=", id).executeTakeFirst();
      if (!row) throw new NotFoundError(`no shipment ${id}`, { reason: "SHIPMENT_NOT_FOUND" });
      return (await withEvents(em, [row]))[0]!;
    },

    async ofOrder(orderId) {
      const em = database.em();
      return withEvents(em, await tables(em).selectFrom("shipment").select(shipmentSelection).where("order_id", "=", orderId).orderBy("id").execute());
    },

    async list(page, filter) {
      const em = database.em();
      const select = tables(em)
        .selectFrom("shipment")
        .select(shipmentSelection)
        .$if(filter.status !== undefined, (q) => q.where("status", "=", filter.status!))
        .$if(filter.optionId !== undefined, (q) => q.where("option_id", "=", filter.optionId!))
        .$if(filter.createdBefore !== undefined, (q) => q.where("created_at", "<", filter.createdBefore!));
      const { rows, nextPageToken } = await keysetPage(select, page);
      return { rows: await withEvents(em, rows), nextPageToken };
    },

    pack: (id) =>
      database.transaction(async (em) => {
        const { shipment } = await lockShipment(em, id);
        if (shipment.status === "packed") return reread(em, id);
        if (shipment.status !== "pending") throw refuse(`shipment ${id} is ${shipment.status}, not waiting to be packed`, "SHIPMENT_NOT_PENDING", shipment);
        await setStatus(em, id, "packed");
        await addEvent(em, id, "packed", "Packed");
        await publish(em, ShipmentPackedSchema, create(ShipmentPackedSchema, { shipmentId: id, orderId: shipment.orderId }));
        return reread(em, id);
      }),

    async buyLabel(id) {
      const current = await this.get(id);
      if (current.trackingNumber) return current;
      if (current.status !== "packed") throw refuse(`shipment ${id} is ${current.status}: a label is bought for a packed shipment`, "SHIPMENT_NOT_PACKED", current);
      const weightGrams = 0;
      // Outside any transaction: the carrier is another system. Its label is idempotent by shipment.
      let label;
      try {
        label = await carrierOf(carriers, current.carrier).createLabel({ shipmentId: id, serviceLevel: current.serviceLevel, address: current.address, weightGrams });
      } catch (error) {
        if (error instanceof FailedPreconditionError) throw error;
        throw new UnavailableError(`the carrier ${current.carrier} cannot issue a label now; try again`, { reason: "CARRIER_UNAVAILABLE", cause: error });
      }
      return database.transaction(async (em) => {
        const { shipment } = await lockShipment(em, id);
        if (shipment.trackingNumber) return reread(em, id);
        if (shipment.status !== "packed") throw refuse(`shipment ${id} is ${shipment.status}: a label is bought for a packed shipment`, "SHIPMENT_NOT_PACKED", shipment);
        await setStatus(em, id, "labelled", { tracking_number: label.trackingNumber, label_url: label.labelUrl, tracking_url: label.trackingUrl });
        await addEvent(em, id, "labelled", `Label created (${label.trackingNumber})`);
        return reread(em, id);
      });
    },

    async buyReturnLabel(orderId, returnId) {
      const shipment = (await this.ofOrder(orderId)).find((s) => s.status !== "cancelled");
      if (!shipment) throw new NotFoundError(`order ${orderId} has no shipment to return`, { reason: "SHIPMENT_NOT_FOUND" });
      const carrier = carrierOf(carriers, shipment.carrier);
      // Nothing stored here: the carrier answers a repeated key with the same label, and the returns
      // service keeps it on the return.
      try {
        const label = await carrier.createLabel({ shipmentId: `return-${returnId}`, direction: "return", serviceLevel: shipment.serviceLevel, address: shipment.address, weightGrams: 0 });
        return { ...label, carrier: shipment.carrier };
      } catch (error) {
        throw new UnavailableError(`the carrier ${shipment.carrier} cannot issue a label now; try again`, { reason: "CARRIER_UNAVAILABLE", cause: error });
      }
    },

    ship: (id) =>
      database.transaction(async (em) => {
        const { shipment, siblings } = await lockShipment(em, id);
        if (LEFT.includes(shipment.status)) return reread(em, id);
        if (shipment.status === "cancelled") throw refuse(`shipment ${id} was cancelled`, "SHIPMENT_CANCELLED", shipment);
        if (shipment.status !== "labelled") throw refuse(`shipment ${id} has no label yet: buy one first`, "LABEL_REQUIRED", shipment);
        await setStatus(em, id, "in_transit");
        await addEvent(em, id, "shipped", `Handed to ${shipment.carrier}`);
        const live = siblings.filter((s) => s.status !== "cancelled");
        const fullyShipped = live.every((s) => s.id === id || LEFT.includes(s.status));
        await publish(
          em,
          ShipmentShippedSchema,
          create(ShipmentShippedSchema, {
            shipmentId: id,
            orderId: shipment.orderId,
            trackingNumber: shipment.trackingNumber,
            carrier: shipment.carrier,
            trackingUrl: shipment.trackingUrl,
            orderFullyShipped: fullyShipped,
          }),
        );
        return reread(em, id);
      }),

    split: (id, moved) =>
      database.transaction(async (em) => {
        const { shipment } = await lockShipment(em, id);
        if (shipment.status !== "pending" && shipment.status !== "packed") {
          throw refuse(`shipment ${id} is ${shipment.status}: only a shipment without a label can be split`, "SHIPMENT_NOT_SPLITTABLE", shipment);
        }
        const held = new Map(shipment.lines.map((l) => [l.sku, l.quantity]));
        const violations = moved.flatMap((line, i) =>
          (held.get(line.sku) ?? 0) < line.quantity ? [{ field: `lines[${i}]`, description: `the shipment holds ${held.get(line.sku) ?? 0} of ${line.sku}` }] : [],
        );
        if (violations.length > 0) throw new InvalidArgumentError(violations);
        for (const line of moved) held.set(line.sku, held.get(line.sku)! - line.quantity);
        const left = [...held].filter(([, quantity]) => quantity > 0).map(([sku, quantity]) => ({ sku, quantity }));
        if (left.length === 0) throw new InvalidArgumentError({ field: "lines", description: "must leave something in the shipment (moving everything is not a split)" });
        await tables(em).updateTable("shipment").set((eb) => ({ lines: left, version: eb("version", "+", 1), updated_at: sql`clock_timestamp()` })).where("id", "=", id).execute();
        const parcelId = uuidv7();
        await tables(em)
          .insertInto("shipment")
          .values({
            id: parcelId,
            order_id: shipment.orderId,
            origin: "split",
            user_id: shipment.userId,
            cart_token_hash: shipment.cartTokenHash,
            status: "pending",
            option_id: shipment.optionId,
            carrier: shipment.carrier,
            service_level: shipment.serviceLevel,
            address: shipment.address,
            lines: moved,
          })
          .execute();
        await addEvent(em, parcelId, "created", `Split from shipment ${id}`);
        await addEvent(em, id, "split", `Parcel ${parcelId} split off`);
        await publish(em, ShipmentCreatedSchema, create(ShipmentCreatedSchema, { shipmentId: parcelId, orderId: shipment.orderId, optionId: shipment.optionId }));
        return { shipment: await reread(em, id), parcel: await reread(em, parcelId) };
      }),

    cancel: (id, reason) =>
      database.transaction(async (em) => {
        const { shipment } = await lockShipment(em, id);
        if (shipment.status === "cancelled") return reread(em, id);
        if (LEFT.includes(shipment.status)) {
          throw refuse(`shipment ${id} has already left with the carrier (${shipment.status}); returns are handled separately`, "SHIPMENT_ALREADY_SHIPPED", shipment);
        }
        await cancelOne(em, shipment, reason, carriers);
        return reread(em, id);
      }),

    recordTracking: (update) =>
      database.transaction(async (em) => {
        const found = await tables(em).selectFrom("shipment").select("id").where("tracking_number", "=", update.trackingNumber).executeTakeFirst();
        if (!found) throw new NotFoundError(`no shipment has tracking number ${update.trackingNumber}`, { reason: "TRACKING_NUMBER_UNKNOWN" });
        const { shipment, siblings } = await lockShipment(em, found.id);
        if (!LEFT.includes(shipment.status)) throw refuse(`shipment ${shipment.id} has not been handed to the carrier yet`, "SHIPMENT_NOT_SHIPPED", shipment);
        const fresh = await addEvent(em, shipment.id, update.kind, update.description || trackingKindText[update.kind], {
          location: update.location,
          updateKey: `${shipment.carrier}:${update.updateKey}`,
          ...(update.occurredAt ? { occurredAt: update.occurredAt } : {}),
        });
        // A redelivered update (same key) applies once; a delivered parcel stays delivered.
        if (!fresh || shipment.status === "delivered") return reread(em, shipment.id);
        await setStatus(em, shipment.id, update.kind);
        const occurredAt = timestampFromDate(update.occurredAt ?? new Date());
        if (update.kind === "delivered") {
          const live = siblings.filter((s) => s.status !== "cancelled");
          const fullyDelivered = live.every((s) => s.id === shipment.id || s.status === "delivered");
          await publish(
            em,
            ShipmentDeliveredSchema,
            create(ShipmentDeliveredSchema, { shipmentId: shipment.id, orderId: shipment.orderId, orderFullyDelivered: fullyDelivered, occurredAt }),
          );
        } else if (update.kind === "exception") {
          await publish(em, ShipmentExceptionSchema, create(ShipmentExceptionSchema, { shipmentId: shipment.id, orderId: shipment.orderId, description: update.description, occurredAt }));
        }
        return reread(em, shipment.id);
      }),
  };
}

