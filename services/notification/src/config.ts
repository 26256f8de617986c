// Notification's configuration: the platform's variables plus mail delivery, links and sending policy,
// validated at start.
import { z } from "zod";
import { DEVELOPMENT_SEALING_PRIVATE_KEY, platformConfigSchema, sealingPrivateKeySchema, secret } from "@bazaar/platform";

const smtpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^smtps?:$/.test(new URL(value).protocol), "must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587");
const httpUrl = z
  .url()
  .refine((value) => /^https?:$/.test(new URL(value).protocol), "must be an http:// or https:// URL")
  .transform((value) => value.replace(/\/+$/, ""));
const mailbox = z.string().trim().min(3).max(320);

export const notificationConfigSchema = platformConfigSchema.extend({
  /**
   * The SMTP server mail goes to: smtp://[user:pass@]host:port (STARTTLS when the server offers it;
   * ?requireTLS=true insists on it) or smtps:// (TLS from the first byte). May carry credentials. The
   * development default is the local stack's Mailpit.
   */
  SMTP_URL: secret(smtpUrl, { development: "smtp://127.0.0.1:1025" }),
  /** The From header of every email, e.g. "Bazaar <no-reply@shop.example>". */
  MAIL_FROM: mailbox.default("Bazaar <no-reply@bazaar.localhost>"),
  /** The Reply-To header: where customers' answers go. */
  MAIL_REPLY_TO: mailbox.default("Bazaar support <support@bazaar.localhost>"),
  /** The storefront links in messages point at (verification, password reset, orders, unsubscribe). */
  STOREFRONT_URL: httpUrl.default("http://localhost:8080"),
  /** The notification service's X25519 private key (a JWK as JSON) that opens the tokens identity seals to it. */
  NOTIFICATION_SEALING_PRIVATE_KEY: secret(sealingPrivateKeySchema, { development: DEVELOPMENT_SEALING_PRIVATE_KEY }),
  /** HMAC key of unsubscribe links (at least 32 characters; openssl rand -base64 32). */
  NOTIFICATION_LINK_SECRET: secret(z.string().min(32, "must be at least 32 characters"), { development: "development-only-notification-link-secret" }),
  /**
   * Where mail clients POST a one-click unsubscribe (RFC 8058; the List-Unsubscribe header): route it to
   * this service's POST /unsubscribe/one-click. Default: STOREFRONT_URL + /unsubscribe/one-click.
   */
  NOTIFICATION_ONE_CLICK_URL: httpUrl.optional(),
  /** How long an unsubscribe link works. */
  NOTIFICATION_UNSUBSCRIBE_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(60),
  /**
   * An event older than this when it is read makes its messages expired, not sent: a first start reading
   * a stream's history, or a long outage, must not send yesterday's news.
   */
  NOTIFICATION_MAX_EVENT_AGE_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  /** Attempts per message before it is marked failed (and listed for staff). */
  NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  /** Wait before the first retry; it doubles per attempt up to NOTIFICATION_RETRY_MAX_MS. */
  NOTIFICATION_RETRY_INITIAL_MS: z.coerce.number().int().min(1).default(2000),
  NOTIFICATION_RETRY_MAX_MS: z.coerce.number().int().min(1).default(10 * 60_000),
  /** Messages sent at once (SMTP connections in the pool). */
  NOTIFICATION_SEND_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** How often the sender looks for due messages besides being woken by new ones. */
  NOTIFICATION_POLL_MS: z.coerce.number().int().min(10).default(1000),
  /** The email of staff alerts (low stock). */
  NOTIFICATION_STAFF_EMAIL: z.email().default("staff@bazaar.localhost"),
});

export type NotificationConfig = z.output<typeof notificationConfigSchema>;
