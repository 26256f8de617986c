// The order service's tables as MikroORM entities. The saga and the handlers use SQL statements
// (compare-and-set updates); the entities describe the schema for tools and reads.
import { defineEntity, p } from "@mikro-orm/core";

export const Order = defineEntity({
  name: "Order",
  tableName: "orders",
  properties: {
    id: p.uuid().primary(),
    userId: p.string().fieldName("user_id"),
    email: p.string(),
    cartId: p.uuid().fieldName("cart_id"),
    cartTokenHash: p.string().fieldName("cart_token_hash").nullable(),
    status: p.string(),
    paymentStatus: p.string().fieldName("payment_status"),
    failureReason: p.string().fieldName("failure_reason").nullable(),
    compensation: p.string().nullable(),
    currency: p.string(),
    subtotal: p.bigint("bigint"),
    discount: p.bigint("bigint"),
    shipping: p.bigint("bigint"),
    tax: p.bigint("bigint"),
    total: p.bigint("bigint"),
    taxRateBps: p.integer().fieldName("tax_rate_bps"),
    captured: p.bigint("bigint"),
    refunded: p.bigint("bigint"),
    shippingAddress: p.json().fieldName("shipping_address"),
    shippingOptionId: p.string().fieldName("shipping_option_id"),
    paymentMethod: p.string().fieldName("payment_method"),
    reservationId: p.uuid().fieldName("reservation_id").nullable(),
    cartCompleted: p.boolean().fieldName("cart_completed"),
    cancelActor: p.string().fieldName("cancel_actor").nullable(),
    cancelReason: p.string().fieldName("cancel_reason"),
    leaseUntil: p.datetime().fieldName("lease_until"),
    leaseHolder: p.string().fieldName("lease_holder").nullable(),
    leaseIncarnation: p.string().fieldName("lease_incarnation").nullable(),
    version: p.integer(),
    createdAt: p.datetime().fieldName("created_at"),
    updatedAt: p.datetime().fieldName("updated_at"),
  },
});

export const OrderLine = defineEntity({
  name: "OrderLine",
  tableName: "order_line",
  properties: {
    orderId: p.uuid().primary().fieldName("order_id"),
    position: p.integer().primary(),
    sku: p.string(),
    productId: p.string().fieldName("product_id"),
    productName: p.string().fieldName("product_name"),
    options: p.json(),
    quantity: p.integer(),
    unitPrice: p.bigint("bigint").fieldName("unit_price"),
    lineTotal: p.bigint("bigint").fieldName("line_total"),
  },
});

export const OrderStatusChange = defineEntity({
  name: "OrderStatusChange",
  tableName: "order_status_change",
  properties: {
    id: p.bigint("bigint").primary(),
    orderId: p.uuid().fieldName("order_id"),
    status: p.string(),
    actor: p.string(),
    note: p.string(),
    createdAt: p.datetime().fieldName("created_at"),
  },
});

export const IdempotencyKey = defineEntity({
  name: "IdempotencyKey",
  tableName: "idempotency_key",
  properties: {
    scope: p.string().primary(),
    key: p.string().primary(),
    requestHash: p.string().fieldName("request_hash"),
    orderId: p.uuid().fieldName("order_id"),
    createdAt: p.datetime().fieldName("created_at"),
  },
});

export const entities = [Order, OrderLine, OrderStatusChange, IdempotencyKey];
