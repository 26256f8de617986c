// Payment's tables as MikroORM entities: the typed schema its queries are written against
// (typedQueries). The state changes run as single statements under a row lock (see payments.ts).
import { defineEntity, p } from "@mikro-orm/core";

/** An order's payment. Money in minor units of `currency`. */
export const Payment = defineEntity({
  name: "Payment",
  tableName: "payment",
  uniques: [{ name: "payment_order_id_key", properties: ["orderId"] }],
  indexes: [{ name: "payment_by_state", expression: "create index payment_by_state on payment (state, id desc)" }],
  properties: {
    id: p.uuid().primary(),
    orderId: p.uuid().fieldName("order_id"),
    state: p.text(),
    currency: p.text(),
    amount: p.bigint("bigint"),
    captured: p.bigint("bigint").defaultRaw("0"),
    refunded: p.bigint("bigint").defaultRaw("0"),
    paymentMethod: p.text().fieldName("payment_method").defaultRaw("''::text"),
    customerId: p.text().fieldName("customer_id").defaultRaw("''::text"),
    email: p.text().defaultRaw("''::text"),
    gateway: p.text(),
    gatewayReference: p.text().fieldName("gateway_reference").defaultRaw("''::text"),
    failureCode: p.text().fieldName("failure_code").defaultRaw("''::text"),
    failureMessage: p.text().fieldName("failure_message").defaultRaw("''::text"),
    busyUntil: p.datetime().fieldName("busy_until").nullable(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** One operation on a payment (its history). */
export const PaymentOperation = defineEntity({
  name: "PaymentOperation",
  tableName: "payment_operation",
  uniques: [{ name: "payment_operation_once", properties: ["paymentId", "kind", "idempotencyKey"] }],
  properties: {
    id: p.uuid().primary(),
    paymentId: p.uuid().fieldName("payment_id"),
    kind: p.text(),
    idempotencyKey: p.text().fieldName("idempotency_key"),
    amount: p.bigint("bigint"),
    currency: p.text(),
    succeeded: p.boolean(),
    gatewayReference: p.text().fieldName("gateway_reference").defaultRaw("''::text"),
    failureCode: p.text().fieldName("failure_code").defaultRaw("''::text"),
    refundId: p.text().fieldName("refund_id").nullable(),
    reason: p.text().defaultRaw("''::text"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

/** A charge of the built-in test gateway, by idempotency key. */
export const TestGatewayCharge = defineEntity({
  name: "TestGatewayCharge",
  tableName: "test_gateway_charge",
  indexes: [
    { name: "test_gateway_charge_reference", properties: ["reference"] },
    { name: "test_gateway_charge_charge", properties: ["charge"] },
  ],
  properties: {
    idempotencyKey: p.text().primary().fieldName("idempotency_key"),
    operation: p.text(),
    outcome: p.text(),
    reference: p.text(),
    /** For captures, voids and refunds: the authorisation's reference they act on. */
    charge: p.text().nullable(),
    amount: p.bigint("bigint").defaultRaw("0"),
    currency: p.text().defaultRaw("''::text"),
    declineCode: p.text().fieldName("decline_code").defaultRaw("''::text"),
    message: p.text().defaultRaw("''::text"),
    voided: p.boolean().defaultRaw("false"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

/** A Stripe webhook event already applied. */
export const StripeWebhookEvent = defineEntity({
  name: "StripeWebhookEvent",
  tableName: "stripe_webhook_event",
  properties: {
    eventId: p.text().primary().fieldName("event_id"),
    type: p.text(),
    receivedAt: p.datetime().fieldName("received_at").defaultRaw("clock_timestamp()"),
  },
});

export const paymentEntities = [Payment, PaymentOperation, TestGatewayCharge, StripeWebhookEvent];
