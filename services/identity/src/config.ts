// Identity's configuration: the platform's variables plus its own, validated at start.
import { z } from "zod";
import { defaultsByMode, DEVELOPMENT_SEALING_PUBLIC_KEY, platformConfigSchema, sealingPublicKeySchema, secret } from "@bazaar/platform";
import { parseServiceClients } from "./service-tokens.ts";

const seconds = z.coerce.number().int().positive();
const count = z.coerce.number().int().min(0);

const aes256Key = z
  .string()
  .refine((value) => Buffer.from(value, "base64").length === 32, "must be 32 bytes, base64-encoded (openssl rand -base64 32)");

export const identityConfigSchema = platformConfigSchema.extend({
  /**
   * AES-256-GCM key that encrypts the stored signing keys and TOTP secrets (base64 of 32 bytes).
   * A secret: its default applies only with BAZAAR_ENV=development.
   */
  IDENTITY_ENCRYPTION_KEY: secret(aes256Key, { development: "ZGV2ZWxvcG1lbnQtb25seS1pZGVudGl0eS1rZXkhISE=" }),
  /** Identity verifies tokens with its own keys; it needs no JWKS URL (overrides the platform's rule). */
  AUTH_JWKS_URL: z.url().optional(),
  /** Identity signs its own tokens: it needs no client secret (overrides the platform's rule). */
  SERVICE_CLIENT_SECRET: z.string().optional(),
  /**
   * The services that may get service tokens: "name=sha256hex,…", the hex SHA-256 of each service's
   * SERVICE_CLIENT_SECRET (printf %s "$SECRET" | sha256sum). Unset: none in production; in development
   * every well-formed name with the platform's development secret.
   */
  IDENTITY_SERVICE_CLIENTS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      try {
        return parseServiceClients(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /**
   * The notification service's public X25519 key (a JWK as JSON): verification and reset tokens travel
   * in events sealed to it, never in clear. Required in production; development uses the committed
   * development pair (the notification service's default private key).
   */
  IDENTITY_EMAIL_TOKEN_SEALING_KEY: defaultsByMode(sealingPublicKeySchema, { development: DEVELOPMENT_SEALING_PUBLIC_KEY }),
  /** Access-token lifetime. */
  IDENTITY_ACCESS_TOKEN_TTL_SECONDS: seconds.max(3600).default(900),
  /** Refresh-token (session) lifetime without use. */
  IDENTITY_REFRESH_TOKEN_TTL_SECONDS: seconds.default(30 * 24 * 3600),
  /** A session's absolute lifetime: refreshing never takes it past this age from its sign-in. */
  IDENTITY_SESSION_MAX_AGE_SECONDS: seconds.default(90 * 24 * 3600),
  /** A signing key older than this is replaced by a new one on the next sign-in. */
  IDENTITY_KEY_ROTATION_SECONDS: seconds.default(30 * 24 * 3600),
  /** Kept in the JWKS this long past the access-token lifetime after a key retires (clock skew). */
  IDENTITY_KEY_RETENTION_GRACE_SECONDS: count.default(60),
  /** Failed logins per account before each further attempt must wait a growing delay. */
  IDENTITY_LOGIN_FREE_FAILURES_PER_ACCOUNT: count.default(5),
  /** Failed logins per client address before the same. */
  IDENTITY_LOGIN_FREE_FAILURES_PER_ADDRESS: count.default(20),
  /** The first delay once the free failures are used; each further failure doubles it. */
  IDENTITY_LOGIN_FIRST_DELAY_SECONDS: seconds.default(1),
  /** The longest delay a run of failures can impose. */
  IDENTITY_LOGIN_MAX_DELAY_SECONDS: seconds.default(900),
  /** Failures older than this are forgotten. */
  IDENTITY_LOGIN_FAILURE_WINDOW_SECONDS: seconds.default(3600),
  /** Verification and password-reset emails asked for one address (or account) before each further request waits a growing delay (the login delays). */
  IDENTITY_EMAIL_REQUESTS_FREE_PER_ACCOUNT: count.default(3),
  /** The same, per client address. */
  IDENTITY_EMAIL_REQUESTS_FREE_PER_ADDRESS: count.default(10),
  /** How often queued password resets are looked for besides the wake-up after each request (a crash's leftovers). */
  IDENTITY_RESET_QUEUE_POLL_MS: z.coerce.number().int().min(50).default(5_000),
  /** argon2id memory in KiB (at least 19 MiB). */
  IDENTITY_ARGON2_MEMORY_KIB: z.coerce.number().int().min(19_456).default(19_456),
  /** argon2id iterations (at least 2). */
  IDENTITY_ARGON2_TIME_COST: z.coerce.number().int().min(2).default(2),
  /**
   * The services asked for their part of a user's download (ExportPersonalData), by their Consul names
   * before UPSTREAMS: each serves bazaar.privacy.v1.PersonalDataService. Comma-separated.
   */
  IDENTITY_PERSONAL_DATA_HOLDERS: z
    .string()
    .default("order,catalog,cart,shipping,returns,notification,promotion,payment")
    .transform((text) => text.split(",").map((name) => name.trim()).filter(Boolean))
    .refine((names) => names.every((name) => /^[a-z][a-z0-9-]{0,62}$/.test(name)), "must be service names (a–z, 0–9, -), comma-separated"),
});

export type IdentityConfig = z.output<typeof identityConfigSchema>;
