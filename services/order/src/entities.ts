// The order service's tables as MikroORM entities. The saga and the handlers use SQL statements
// (compare-and-set updates); the entities describe the schema for tools and reads.
import { defineEntity, p } from "@mikro-orm/core";

export const Order = defineEntity({
  name: "Order",
  tableName: "orders",
  indexes: [
    { name: "orders_by_user", expression: "create index orders_by_user on orders (user_id, id desc)" },
    { name: "orders_by_status", expression: "create index orders_by_status on orders (status, id desc)" },
    { name: "orders_by_created", properties: ["createdAt"] },
  ],
  properties: {
    id: p.uuid().primary(),
    userId: p.text().fieldName("user_id").defaultRaw("''::text"),
    email: p.text(),
    cartId: p.uuid().fieldName("cart_id"),
    cartTokenHash: p.text().fieldName("cart_token_hash").nullable(),
    status: p.text(),
    paymentStatus: p.text().fieldName("payment_status").defaultRaw("'PENDING'::text"),
    failureReason: p.text().fieldName("failure_reason").nullable(),
    compensation: p.text().nullable(),
    currency: p.text(),
    subtotal: p.bigint("bigint"),
    discount: p.bigint("bigint"),
    shipping: p.bigint("bigint"),
    tax: p.bigint("bigint"),
    total: p.bigint("bigint"),
    taxRateBps: p.integer().fieldName("tax_rate_bps"),
    captured: p.bigint("bigint").defaultRaw("0"),
    refunded: p.bigint("bigint").defaultRaw("0"),
    shippingAddress: p.json().fieldName("shipping_address"),
    shippingOptionId: p.text().fieldName("shipping_option_id"),
    paymentMethod: p.text().fieldName("payment_method"),
    reservationId: p.uuid().fieldName("reservation_id").nullable(),
    cartCompleted: p.boolean().fieldName("cart_completed").defaultRaw("false"),
    cancelActor: p.text().fieldName("cancel_actor").nullable(),
    cancelReason: p.text().fieldName("cancel_reason").defaultRaw("''::text"),
    leaseUntil: p.datetime().fieldName("lease_until"),
    leaseHolder: p.text().fieldName("lease_holder").nullable(),
    leaseIncarnation: p.text().fieldName("lease_incarnation").nullable(),
    promotions: p.json().defaultRaw("'[]'::jsonb"),
    version: p.integer().defaultRaw("1"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

export const OrderLine = defineEntity({
  name: "OrderLine",
  tableName: "order_line",
  uniques: [{ name: "order_line_order_id_sku_key", properties: ["orderId", "sku"] }],
  indexes: [{ name: "order_line_by_sku", properties: ["sku", "orderId"] }],
  properties: {
    orderId: p.uuid().primary().fieldName("order_id"),
    position: p.integer().primary(),
    sku: p.text(),
    productId: p.text().fieldName("product_id"),
    productName: p.text().fieldName("product_name"),
    options: p.json().defaultRaw("'{}'::jsonb"),
    quantity: p.integer(),
    unitPrice: p.bigint("bigint").fieldName("unit_price"),
    lineTotal: p.bigint("bigint").fieldName("line_total"),
  },
});

export const OrderStatusChange = defineEntity({
  name: "OrderStatusChange",
  tableName: "order_status_change",
  indexes: [{ name: "order_status_change_by_order", properties: ["orderId", "id"] }],
  properties: {
    id: p.bigint("bigint").primary().autoincrement().generated("identity"),
    orderId: p.uuid().fieldName("order_id"),
    status: p.text(),
    actor: p.text(),
    note: p.text().defaultRaw("''::text"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

export const IdempotencyKey = defineEntity({
  name: "IdempotencyKey",
  tableName: "idempotency_key",
  indexes: [{ name: "idempotency_key_by_age", properties: ["createdAt"] }],
  properties: {
    scope: p.text().primary(),
    key: p.text().primary(),
    requestHash: p.text().fieldName("request_hash"),
    orderId: p.uuid().fieldName("order_id"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

export const orderEntities = [Order, OrderLine, OrderStatusChange, IdempotencyKey];
