// Payment's tables as MikroORM entities. The state changes run as single SQL statements under a row
// lock (see payments.ts); the entities describe the schema for tools and reads.
import { defineEntity, p } from "@mikro-orm/core";

/** An order's payment. Money in minor units of `currency`. */
export const Payment = defineEntity({
  name: "Payment",
  tableName: "payment",
  properties: {
    id: p.uuid().primary(),
    orderId: p.uuid().unique().fieldName("order_id"),
    state: p.string(),
    currency: p.string(),
    amount: p.bigint("bigint"),
    captured: p.bigint("bigint"),
    refunded: p.bigint("bigint"),
    paymentMethod: p.string().fieldName("payment_method"),
    customerId: p.string().fieldName("customer_id"),
    email: p.string(),
    gateway: p.string(),
    gatewayReference: p.string().fieldName("gateway_reference"),
    failureCode: p.string().fieldName("failure_code"),
    failureMessage: p.string().fieldName("failure_message"),
    busyUntil: p.datetime().fieldName("busy_until").nullable(),
    createdAt: p.datetime().fieldName("created_at"),
    updatedAt: p.datetime().fieldName("updated_at"),
  },
});

/** One operation on a payment (its history). */
export const PaymentOperation = defineEntity({
  name: "PaymentOperation",
  tableName: "payment_operation",
  properties: {
    id: p.uuid().primary(),
    paymentId: p.uuid().fieldName("payment_id"),
    kind: p.string(),
    idempotencyKey: p.string().fieldName("idempotency_key"),
    amount: p.bigint("bigint"),
    currency: p.string(),
    succeeded: p.boolean(),
    gatewayReference: p.string().fieldName("gateway_reference"),
    failureCode: p.string().fieldName("failure_code"),
    refundId: p.string().fieldName("refund_id").nullable(),
    reason: p.string(),
    createdAt: p.datetime().fieldName("created_at"),
  },
});

/** A charge of the built-in test gateway, by idempotency key. */
export const TestGatewayCharge = defineEntity({
  name: "TestGatewayCharge",
  tableName: "test_gateway_charge",
  properties: {
    idempotencyKey: p.string().primary().fieldName("idempotency_key"),
    operation: p.string(),
    outcome: p.string(),
    reference: p.string(),
    /** For captures, voids and refunds: the authorisation's reference they act on. */
    charge: p.string().nullable(),
    amount: p.bigint("bigint"),
    currency: p.string(),
    declineCode: p.string().fieldName("decline_code"),
    message: p.string(),
    voided: p.boolean(),
    createdAt: p.datetime().fieldName("created_at"),
  },
});

/** A Stripe webhook event already applied. */
export const StripeWebhookEvent = defineEntity({
  name: "StripeWebhookEvent",
  tableName: "stripe_webhook_event",
  properties: {
    eventId: p.string().primary().fieldName("event_id"),
    type: p.string(),
    receivedAt: p.datetime().fieldName("received_at"),
  },
});

export const paymentEntities = [Payment, PaymentOperation, TestGatewayCharge, StripeWebhookEvent];
