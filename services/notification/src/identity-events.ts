// Identity's events: who users are and where they are reached (contacts), the verification and reset
// emails (their tokens arrive sealed and stay sealed until sent), and security notices.
import { onEvent, sql, typedQueries, type ConsumerDefinition, type EntityManager } from "@bazaar/platform";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import {
  EmailVerificationRequestedSchema,
  MfaDisabledSchema,
  MfaEnabledSchema,
  PasswordChangedSchema,
  PasswordResetRequestedSchema,
  RegistrationAttemptedSchema,
  UserDeletedSchema,
  UserRegisteredSchema,
} from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { notificationEntities } from "./entities.ts";
import type { Links } from "./links.ts";
import { contactOf, type MessageQueue, type SealedLink } from "./messages.ts";
import { DEFAULT_LOCALE } from "./templates.ts";

const tables = (em: EntityManager) => typedQueries(em, notificationEntities);
const iso = (time: Timestamp | undefined) => (time ? timestampDate(time) : new Date()).toISOString();
const when = (time: Timestamp | undefined) => (time ? timestampDate(time) : undefined);

async function saveContact(em: EntityManager, userId: string, email: string, displayName?: string): Promise<void> {
  await tables(em)
    .insertInto("contact")
    .values({ user_id: userId, email, display_name: displayName ?? "" })
    .onConflict((conflict) =>
      conflict.column("user_id").doUpdateSet((row) => ({
        email: row.ref("excluded.email"),
        ...(displayName === undefined ? {} : { display_name: row.ref("excluded.display_name") }),
        updated_at: new Date(),
      })),
    )
    .execute();
}

export function identityConsumers(options: { name: string; queue: MessageQueue; links: Links }): ConsumerDefinition[] {
  const { queue, links } = options;

  async function securityNotice(em: EntityManager, eventId: string, userId: string, change: string, occurredAt: Timestamp | undefined): Promise<void> {
    const contact = await contactOf(em, userId);
    if (!contact?.email) return; // an account this service never heard of (older than its history): nobody to tell
    await queue.enqueue(em, {
      eventId,
      userId,
      channel: "email",
      recipient: contact.email,
      template: "security-notice",
      topic: "account_security",
      locale: contact.locale,
      data: { displayName: contact.display_name, change, occurredAt: iso(occurredAt), accountUrl: links.storefront("/account") },
      occurredAt: when(occurredAt),
    });
  }

  // An email about the account itself, to the address the event names (which may not be the contact's yet).
  async function accountEmail(
    em: EntityManager,
    eventId: string,
    event: { userId: string; email: string; occurredAt?: Timestamp },
    template: string,
    o: { data: Record<string, string>; usefulUntil?: Date; sealed?: SealedLink[] },
  ): Promise<void> {
    const contact = await contactOf(em, event.userId);
    await queue.enqueue(em, {
      eventId,
      userId: event.userId,
      channel: "email",
      recipient: event.email,
      template,
      topic: "account_security",
      locale: contact?.locale ?? DEFAULT_LOCALE,
      data: { displayName: contact?.display_name ?? "", ...o.data },
      occurredAt: when(event.occurredAt),
      usefulUntil: o.usefulUntil,
      sealed: o.sealed,
    });
  }

  return [
    {
      domain: "identity",
      durable: `${options.name}-identity`,
      handlers: [
        onEvent(UserRegisteredSchema, (event, { em }) => saveContact(em, event.userId, event.email, event.displayName)),
        onEvent(EmailVerificationRequestedSchema, async (event, { em, eventId }) => {
          await saveContact(em, event.userId, event.email);
          await accountEmail(em, eventId, event, "email-verification", {
            data: { expireTime: iso(event.expireTime) },
            usefulUntil: when(event.expireTime),
            sealed: [{ field: "verifyUrl", prefix: links.storefront("/verify-email?token="), sealedToken: event.sealedToken, purpose: `verify_email:${event.userId}` }],
          });
        }),
        onEvent(PasswordResetRequestedSchema, (event, { em, eventId }) =>
          accountEmail(em, eventId, event, "password-reset", {
            data: { expireTime: iso(event.expireTime) },
            usefulUntil: when(event.expireTime),
            sealed: [{ field: "resetUrl", prefix: links.storefront("/reset-password?token="), sealedToken: event.sealedToken, purpose: `reset_password:${event.userId}` }],
          }),
        ),
        // Register answered a stranger as if it had created the account; the owner is told instead.
        onEvent(RegistrationAttemptedSchema, (event, { em, eventId }) =>
          accountEmail(em, eventId, event, "account-exists", {
            data: { occurredAt: iso(event.occurredAt), signInUrl: links.storefront("/sign-in"), resetUrl: links.storefront("/forgot-password") },
          }),
        ),
        onEvent(PasswordChangedSchema, (event, { em, eventId }) => securityNotice(em, eventId, event.userId, "password_changed", event.occurredAt)),
        onEvent(MfaEnabledSchema, (event, { em, eventId }) => securityNotice(em, eventId, event.userId, "mfa_enabled", event.occurredAt)),
        onEvent(MfaDisabledSchema, (event, { em, eventId }) => securityNotice(em, eventId, event.userId, "mfa_disabled", event.occurredAt)),
        // Personal data goes with the account: the contact, the choices, what messages were made of.
        onEvent(UserDeletedSchema, async (event, { em }) => {
          await tables(em).deleteFrom("contact").where("user_id", "=", event.userId).execute();
          await tables(em).deleteFrom("preference").where("user_id", "=", event.userId).execute();
          await tables(em).deleteFrom("order_contact").where("user_id", "=", event.userId).execute();
          // The log keeps that something was sent and when, not to which address nor what it said; what
          // had not gone out yet never will (its address and data are gone): failed, saying why.
          await tables(em)
            .updateTable("message")
            .set({
              data: {},
              recipient: sql<string>`'erased:' || id`,
              status: sql<string>`case when status = 'queued' then 'failed' else status end`,
              last_error: sql<string>`case when status = 'queued' then 'not sent: the account was deleted' else last_error end`,
            })
            .where("user_id", "=", event.userId)
            .execute();
        }),
      ],
    },
  ];
}
