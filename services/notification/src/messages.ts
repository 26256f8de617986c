// Queuing messages: one row per (event, recipient, channel) — a redelivered event inserts nothing — in
// the consumer's transaction, so the message exists exactly when the event is recorded as handled. The
// recipient's preferences are applied here: a topic turned off is recorded as suppressed, not sent.
import { typedQueries, type EntityManager } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import { notificationEntities } from "./entities.ts";
import type { Links } from "./links.ts";
import { QUEUED_CHANNEL } from "./queued-signal.ts";
import type { Templates } from "./templates.ts";
import { defaultEnabled, isRequired, isTransactional, type Channel, type Topic, type UserTopic } from "./topics.ts";

/** A secret sealed to this service (by identity), opened only when the message is sent. */
export interface SealedLink {
  /** The template variable the link goes into, e.g. "verifyUrl". */
  field: string;
  /** The storefront URL the token is appended to, e.g. "http://…/verify-email?token=". */
  prefix: string;
  sealedToken: string;
  /** What it was sealed for, e.g. "verify_email:<user id>". */
  purpose: string;
}

export interface NewMessage {
  eventId: string;
  userId?: string;
  channel: Channel;
  recipient: string;
  template: string;
  topic: Topic;
  /** The recipient's locale; a template without it is written in English. */
  locale: string;
  data: Record<string, unknown>;
  sealed?: SealedLink[];
  /** When its event happened: a message older than the queue's maxAgeMs is recorded expired, not sent. */
  occurredAt?: Date;
  /** Until when it is worth sending (e.g. the link's expiry); past it the message is recorded expired. */
  usefulUntil?: Date;
}

export type MessageStatus = "queued" | "sent" | "failed" | "suppressed" | "expired";

export interface MessageQueue {
  /** Queues `message` (or records it suppressed) unless the same event already made it; in `em`'s transaction. */
  enqueue(em: EntityManager, message: NewMessage): Promise<void>;
}

const tables = (em: EntityManager) => typedQueries(em, notificationEntities);

/** Whether `userId` receives `topic` on `channel`: required ones always; else their choice, or the default. */
export async function receives(em: EntityManager, userId: string | undefined, topic: Topic, channel: Channel): Promise<boolean> {
  if (isRequired(topic, channel)) return true;
  // A guest has no choices: the defaults.
  if (!userId) return defaultEnabled(topic, channel);
  const choice = await tables(em)
    .selectFrom("preference")
    .select("enabled")
    .where("user_id", "=", userId)
    .where("topic", "=", topic)
    .where("channel", "=", channel)
    .executeTakeFirst();
  return choice?.enabled ?? defaultEnabled(topic, channel);
}

export function createMessageQueue(options: { templates: Templates; links: Links; maxAgeMs?: number }): MessageQueue {
  const { templates, links } = options;
  const maxAgeMs = options.maxAgeMs ?? 24 * 3600_000;
  return {
    async enqueue(em, message) {
      // An event with no address (an order placed without an email, a phone left out) has no one to
      // write to: nothing is queued, and the event is still handled (it must not stop the stream).
      if (message.recipient.trim() === "") return;
      const locale = templates.localeFor(message.template, message.locale);
      const now = Date.now();
      // A stream's history (a first start, a long outage) must not send yesterday's news or dead links.
      const expired = (message.occurredAt !== undefined && now - message.occurredAt.getTime() > maxAgeMs) || (message.usefulUntil !== undefined && message.usefulUntil.getTime() <= now);
      const allowed = !expired && (await receives(em, message.userId, message.topic, message.channel));
      const data: Record<string, unknown> = { ...message.data, storefrontUrl: links.storefront("/") };
      if (!isTransactional(message.topic) && message.userId) {
        // The footer's link opens the storefront's page; the List-Unsubscribe header's takes a one-click POST.
        const token = links.unsubscribeToken(message.userId, message.topic as UserTopic, message.channel);
        data.unsubscribeUrl = links.storefront(`/unsubscribe?token=${token}`);
        data.oneClickUrl = links.oneClickUrl(token);
      }
      // The subject (for the delivery log) never holds a secret: sealed links are placeholders here.
      const placeholders = Object.fromEntries((message.sealed ?? []).map((link) => [link.field, `${link.prefix}…`]));
      const subject = templates.subject(message.template, locale, { ...data, ...placeholders });
      await tables(em)
        .insertInto("message")
        .values({
          id: uuidv7(),
          event_id: message.eventId,
          user_id: message.userId ?? null,
          channel: message.channel,
          recipient: message.recipient,
          template: message.template,
          locale,
          topic: message.topic,
          subject,
          data: { ...data, ...(message.sealed?.length ? { $sealed: message.sealed } : {}) },
          status: expired ? "expired" : allowed ? "queued" : "suppressed",
        })
        .onConflict((conflict) => conflict.constraint("message_once").doNothing())
        .execute();
      // Delivered at commit (and once per transaction): wakes the sender (queued-signal.ts).
      if (allowed) await em.execute(`select pg_notify('${QUEUED_CHANNEL}', '')`);
    },
  };
}

/** The contact of `userId`, when identity's events told this service of it. */
export async function contactOf(em: EntityManager, userId: string) {
  return tables(em).selectFrom("contact").selectAll().where("user_id", "=", userId).executeTakeFirst();
}

