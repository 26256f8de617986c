// The inventory's tables as MikroORM entities. The hot paths (reservations, adjustments) use single
// conditional SQL statements for their row locks; the entities describe the schema for tools and reads.
import { defineEntity, p } from "@mikro-orm/core";

/** Per-SKU totals: availability over all locations and the low-stock threshold. */
export const SkuStock = defineEntity({
  name: "SkuStock",
  tableName: "sku_stock",
  properties: {
    sku: p.string().primary(),
    available: p.bigint("number"),
    lowStockThreshold: p.bigint("number").fieldName("low_stock_threshold"),
    updatedAt: p.datetime().fieldName("updated_at"),
  },
});

/** Stock of one SKU at one location. */
export const StockLevel = defineEntity({
  name: "StockLevel",
  tableName: "stock_level",
  properties: {
    sku: p.string().primary(),
    location: p.string().primary(),
    onHand: p.bigint("number").fieldName("on_hand"),
    reserved: p.bigint("number"),
    updatedAt: p.datetime().fieldName("updated_at"),
  },
});

/** Stock held for a caller's reference. */
export const Reservation = defineEntity({
  name: "Reservation",
  tableName: "reservation",
  properties: {
    id: p.uuid().primary(),
    reference: p.string().unique(),
    state: p.string(),
    createdAt: p.datetime().fieldName("created_at"),
    expiresAt: p.datetime().fieldName("expires_at"),
    closedAt: p.datetime().fieldName("closed_at").nullable(),
    restockedAt: p.datetime().fieldName("restocked_at").nullable(),
  },
});

/** One held line of a reservation. */
export const ReservationLine = defineEntity({
  name: "ReservationLine",
  tableName: "reservation_line",
  properties: {
    reservationId: p.uuid().primary().fieldName("reservation_id"),
    sku: p.string().primary(),
    location: p.string().primary(),
    quantity: p.bigint("number"),
  },
});

/** One change of on-hand stock (the audit trail). */
export const StockMovement = defineEntity({
  name: "StockMovement",
  tableName: "stock_movement",
  properties: {
    id: p.uuid().primary(),
    sku: p.string(),
    location: p.string(),
    delta: p.bigint("number"),
    reason: p.string(),
    note: p.string(),
    actor: p.string(),
    onHandAfter: p.bigint("number").fieldName("on_hand_after"),
    createdAt: p.datetime().fieldName("created_at"),
  },
});

export const entities = [SkuStock, StockLevel, Reservation, ReservationLine, StockMovement];
