// Notification's tables as MikroORM entities. The state changes are single SQL statements (claiming due
// messages, recording outcomes, see outbox-sender.ts); the entities type the queries and describe the
// schema for tools.
import { defineEntity, p } from "@mikro-orm/core";

/**
 * One message to one recipient on one channel, made from one event: unique per (event, recipient,
 * channel), so that a redelivered event adds nothing. `data` is what the template is rendered with at
 * send time (secrets in it stay sealed until then); `subject` is rendered when queued, for the log.
 */
export const Message = defineEntity({
  name: "Message",
  tableName: "message",
  uniques: [{ name: "message_once", properties: ["eventId", "recipient", "channel"] }],
  indexes: [
    { name: "message_by_user", properties: ["userId", "id"] },
    { name: "message_by_status", properties: ["status", "id"] },
  ],
  properties: {
    id: p.uuid().primary(),
    eventId: p.text().fieldName("event_id"),
    userId: p.uuid().fieldName("user_id").nullable(),
    channel: p.text(),
    recipient: p.text(),
    template: p.text(),
    locale: p.text(),
    topic: p.text(),
    subject: p.text(),
    data: p.json<Record<string, unknown>>(),
    status: p.text(),
    attempts: p.integer().defaultRaw("0"),
    nextAttemptAt: p.datetime().fieldName("next_attempt_at").defaultRaw("clock_timestamp()"),
    providerMessageId: p.text().fieldName("provider_message_id").defaultRaw("''::text"),
    lastError: p.text().fieldName("last_error").defaultRaw("''::text"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
    sentAt: p.datetime().fieldName("sent_at").nullable(),
  },
});

/** Where a user is reached: kept from identity's events (registration, verification requests). */
export const Contact = defineEntity({
  name: "Contact",
  tableName: "contact",
  properties: {
    userId: p.uuid().primary().fieldName("user_id"),
    email: p.text().defaultRaw("''::text"),
    displayName: p.text().fieldName("display_name").defaultRaw("''::text"),
    locale: p.text().defaultRaw("'en'::text"),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** A user's choice for one topic on one channel (absent: the topic's default). */
export const Preference = defineEntity({
  name: "Preference",
  tableName: "preference",
  properties: {
    userId: p.uuid().primary().fieldName("user_id"),
    topic: p.text().primary(),
    channel: p.text().primary(),
    enabled: p.boolean(),
    updatedAt: p.datetime().fieldName("updated_at").defaultRaw("clock_timestamp()"),
  },
});

/** Who an order's messages go to, kept from its confirmation. */
export const OrderContact = defineEntity({
  name: "OrderContact",
  tableName: "order_contact",
  properties: {
    orderId: p.uuid().primary().fieldName("order_id"),
    userId: p.uuid().fieldName("user_id").nullable(),
    email: p.text(),
    phone: p.text().defaultRaw("''::text"),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

/** What a development provider (SMS, push) recorded instead of sending. */
export const ProviderMessage = defineEntity({
  name: "ProviderMessage",
  tableName: "provider_message",
  properties: {
    id: p.uuid().primary(),
    channel: p.text(),
    recipient: p.text(),
    body: p.text(),
    createdAt: p.datetime().fieldName("created_at").defaultRaw("clock_timestamp()"),
  },
});

export const notificationEntities = [Message, Contact, Preference, OrderContact, ProviderMessage];
