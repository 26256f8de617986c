// Returns' tables as MikroORM entities: the typed schema its queries are written against
// (typedQueries). Limits live in the migrations' CHECKs (see returns-0001-schema.ts).
import { defineEntity, p } from "@mikro-orm/core";

/** Per order line: units delivered, held by returns (claimed), refunded, and what the whole line cost. */
export const ReturnableLine = defineEntity({
  name: "ReturnableLine",
  tableName: "returnable_line",
  properties: {
    orderId: p.uuid().primary().fieldName("order_id"),
    sku: p.text().primary(),
    delivered: p.integer(),
    claimed: p.integer().defaultRaw("0"),
    refundedUnits: p.integer().fieldName("refunded_units").defaultRaw("0"),
    /** The line after its allocated discount, plus its share of the order's tax, in minor units. */
    lineAmount: p.bigint("bigint").fieldName("line_amount"),
  },
});

/** A return (RMA). */
export const ReturnRequest = defineEntity({
  name: "ReturnRequest",
  tableName: "return_request",
  indexes: [
    { name: "return_request_by_order", properties: ["orderId", "id"] },
    { name: "return_request_by_status", expression: "create index return_request_by_status on return_request (status, id desc)" },
    { name: "return_request_refund_intended", expression: "create index return_request_refund_intended on return_request (id) where refund_state = 'intended'" },
  ],
  properties: {
    id: p.uuid().primary(),
    orderId: p.uuid().fieldName("order_id"),
    userId: p.text().fieldName("user_id").defaultRaw("''::text"),
    email: p.text().defaultRaw("''::text"),
    currency: p.text(),
    status: p.text(),
    reason: p.text(),
    comment: p.text().defaultRaw("''::text"),
    /** none → intended (amount recorded before calling payment) → done. */
    refundState: p.text().fieldName("refund_state").defaultRaw("'none'::text"),
    refundAmount: p.bigint("bigint").fieldName("refund_amount").defaultRaw("0"),
    includeShipping: p.boolean().fieldName("include_shipping").defaultRaw("false"),
    /** The return label (empty without one). */
    labelCarrier: p.text().fieldName("label_carrier").defaultRaw("''::text"),
    labelTrackingNumber: p.text().fieldName("label_tracking_number").defaultRaw("''::text"),
    labelUrl: p.text().fieldName("label_url").defaultRaw("''::text"),
    labelTrackingUrl: p.text().fieldName("label_tracking_url").defaultRaw("''::text"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** Units of one order line in a return, and what arrived. */
export const ReturnLine = defineEntity({
  name: "ReturnLine",
  tableName: "return_line",
  indexes: [{ name: "return_line_restock_pending", expression: "create index return_line_restock_pending on return_line (return_id, sku) where restocked < received_resellable" }],
  properties: {
    returnId: p.uuid().primary().fieldName("return_id"),
    sku: p.text().primary(),
    quantity: p.integer(),
    receivedResellable: p.integer().fieldName("received_resellable").defaultRaw("0"),
    receivedDamaged: p.integer().fieldName("received_damaged").defaultRaw("0"),
    refundAmount: p.bigint("bigint").fieldName("refund_amount").defaultRaw("0"),
    /** Resellable units inventory confirmed back on hand; below receivedResellable the restock is pending. */
    restocked: p.integer().defaultRaw("0"),
  },
});

/** One entry of a return's history. */
export const ReturnStatusChange = defineEntity({
  name: "ReturnStatusChange",
  tableName: "return_status_change",
  indexes: [{ name: "return_status_change_by_return", properties: ["returnId", "changedAt", "id"] }],
  properties: {
    id: p.uuid().primary(),
    returnId: p.uuid().fieldName("return_id"),
    status: p.text(),
    actor: p.text(),
    note: p.text().defaultRaw("''::text"),
    changedAt: p.datetime().fieldName("changed_at").defaultRaw("clock_timestamp()"),
  },
});

/** An order's shipping, refunded once by the first return that includes it. */
export const ShippingRefund = defineEntity({
  name: "ShippingRefund",
  tableName: "shipping_refund",
  properties: {
    orderId: p.uuid().primary().fieldName("order_id"),
    returnId: p.uuid().fieldName("return_id"),
    amount: p.bigint("bigint"),
  },
});

export const returnsEntities = [ReturnableLine, ReturnRequest, ReturnLine, ReturnStatusChange, ShippingRefund];
