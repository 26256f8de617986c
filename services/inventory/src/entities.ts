// The inventory's tables as MikroORM entities: the typed schema its queries are written against
// (typedQueries). The hot paths (reservations, adjustments) are single conditional statements.
import { defineEntity, p } from "@mikro-orm/core";

/** Per-SKU totals: availability over all locations and the low-stock threshold. */
export const SkuStock = defineEntity({
  name: "SkuStock",
  tableName: "sku_stock",
  properties: {
    sku: p.text().primary(),
    available: p.bigint("number").defaultRaw("0"),
    lowStockThreshold: p.bigint("number").fieldName("low_stock_threshold").defaultRaw("0"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** Stock of one SKU at one location. */
export const StockLevel = defineEntity({
  name: "StockLevel",
  tableName: "stock_level",
  properties: {
    sku: p.text().primary(),
    location: p.text().primary(),
    onHand: p.bigint("number").fieldName("on_hand"),
    reserved: p.bigint("number").defaultRaw("0"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** Stock held for a caller's reference. */
export const Reservation = defineEntity({
  name: "Reservation",
  tableName: "reservation",
  uniques: [{ name: "reservation_reference_key", properties: ["reference"] }],
  properties: {
    id: p.uuid().primary(),
    reference: p.text(),
    state: p.text(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    expiresAt: p.datetime().fieldName("expires_at"),
    closedAt: p.datetime().fieldName("closed_at").nullable(),
    restockedAt: p.datetime().fieldName("restocked_at").nullable(),
  },
});

/** One held line of a reservation. */
export const ReservationLine = defineEntity({
  name: "ReservationLine",
  tableName: "reservation_line",
  indexes: [{ name: "reservation_line_stock", properties: ["sku", "location"] }],
  properties: {
    reservationId: p.uuid().primary().fieldName("reservation_id"),
    sku: p.text().primary(),
    location: p.text().primary(),
    quantity: p.bigint("number"),
  },
});

/** One change of on-hand stock (the audit trail). */
export const StockMovement = defineEntity({
  name: "StockMovement",
  tableName: "stock_movement",
  indexes: [
    { name: "stock_movement_by_sku", expression: "create index stock_movement_by_sku on stock_movement (sku, id desc)" },
    { name: "stock_movement_idempotency_key", expression: "create unique index stock_movement_idempotency_key on stock_movement (idempotency_key) where idempotency_key is not null" },
  ],
  properties: {
    id: p.uuid().primary(),
    sku: p.text(),
    location: p.text(),
    delta: p.bigint("number"),
    reason: p.text(),
    note: p.text().defaultRaw("''::text"),
    actor: p.text().defaultRaw("''::text"),
    onHandAfter: p.bigint("number").fieldName("on_hand_after"),
    /** Set when the caller made the adjustment idempotent (e.g. "return-<id>-<sku>"); unique. */
    idempotencyKey: p.text().fieldName("idempotency_key").nullable(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

export const inventoryEntities = [SkuStock, StockLevel, Reservation, ReservationLine, StockMovement];
