// Shared by the notification tests: a private Mailpit, a real identity (the token issuer, and the source
// of account events) and the notification service, both in-process on port 0 against the real
// PostgreSQL, NATS and Consul; typed clients with identity's own tokens, and direct database reads.
import { randomBytes } from "node:crypto";
import type { Client } from "@connectrpc/connect";
import { createService, loadConfig, type Database, type RunningService, type TokenVerifier } from "@bazaar/platform";
import { bearer, clientAt, dropServiceDatabase, startTestService, testEnv, uniqueName } from "@bazaar/platform/testing";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { NotificationService } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { grantFirstAdmin, identity, identityConfigSchema } from "@bazaar/identity";
import { notification, notificationConfigSchema, type NotificationConfig } from "../src/index.ts";
import { startMailpit, type Mailpit } from "./mailpit.ts";

export { eventually, failure } from "@bazaar/platform/testing";

export const STOREFRONT = "http://shop.test";

/** What every test service here runs with: quick retries and polling, so tests do not wait long. */
export const notificationEnv = (mailpit: Mailpit, extra: Record<string, string> = {}): Record<string, string> => ({
  DB_POOL_SIZE: "3",
  SMTP_URL: mailpit.smtpUrl,
  STOREFRONT_URL: STOREFRONT,
  NOTIFICATION_POLL_MS: "100",
  NOTIFICATION_RETRY_INITIAL_MS: "200",
  NOTIFICATION_RETRY_MAX_MS: "2000",
  ...extra,
});

export interface IdentityHarness {
  name: string;
  service: RunningService<Database>;
  verifier: TokenVerifier;
  adminEmail: string;
  client(token?: string): Client<typeof IdentityService>;
  stop(): Promise<void>;
}

export async function startIdentityService(): Promise<IdentityHarness> {
  const name = uniqueName("identity");
  const adminEmail = `admin@${name}.test`;
  const config = loadConfig(identityConfigSchema, { ...testEnv, DB_POOL_SIZE: "3" });
  const definition = identity({ config, name });
  const service = await createService(definition, { config, verifier: definition.verifier });
  return {
    name,
    service,
    verifier: definition.verifier,
    adminEmail,
    client: (token) =>
      clientAt(
        IdentityService,
        service.address,
        bearer(token),
        // Each caller its own address: identity's sign-in throttle counts per address.
        (next) => (request) => (request.header.set("x-forwarded-for", `10.${randomBytes(3).join(".")}`), next(request)),
      ),
    async stop() {
      await service.stop();
      await dropServiceDatabase(name);
    },
  };
}

export interface NotificationHarness {
  name: string;
  service: RunningService<Database>;
  client(token?: string): Client<typeof NotificationService>;
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

/** The notification service, verifying identity's tokens (`verifier`), with `env` over notificationEnv. */
export async function startNotificationService(options: { mailpit: Mailpit; verifier: TokenVerifier; env?: Record<string, string> }): Promise<NotificationHarness> {
  const harness = await startTestService({
    contract: NotificationService,
    prefix: "notification",
    configSchema: notificationConfigSchema,
    env: notificationEnv(options.mailpit, options.env),
    define: (name, config: NotificationConfig) => notification({ config, name }),
    verifier: options.verifier,
  });
  return { name: harness.name, service: harness.service, client: harness.clientWith, sql: harness.sql, stop: harness.stop };
}

export const strongPassword = () => `Tr0ub4dor-${randomBytes(6).toString("hex")}`;
export const newEmail = (prefix = "shopper") => `${prefix}-${randomBytes(5).toString("hex")}@example.com`;

/** The storefront link in a text part that starts with `prefix` (e.g. STOREFRONT + "/verify-email?token="). */
export function linkIn(text: string, prefix: string): string {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}\\S+`).exec(text);
  if (!match) throw new Error(`no link starting with ${prefix} in:\n${text}`);
  return match[0];
}

/** The `token` query parameter of `link`. */
export const tokenOf = (link: string) => new URL(link).searchParams.get("token") ?? "";

/** The href values of an HTML part, with HTML entities decoded. */
export function hrefsIn(html: string): string[] {
  const decode = (value: string) =>
    value.replace(/&#x([0-9a-f]+);|&#([0-9]+);|&amp;|&quot;|&lt;|&gt;/gi, (entity, hex?: string, dec?: string) =>
      hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(Number(dec)) : ({ "&amp;": "&", "&quot;": '"', "&lt;": "<", "&gt;": ">" } as Record<string, string>)[entity.toLowerCase()]!,
    );
  return [...html.matchAll(/href="([^"]*)"/g)].map((match) => decode(match[1]!));
}

export interface SignedUp {
  userId: string;
  email: string;
  accessToken: string;
}

/**
 * A real account: registered with identity, verified through the link this service mailed, signed in.
 * With `admin`, the account is made identity's first admin (as admin:bootstrap does) before it signs in.
 */
export async function signUp(identity: IdentityHarness, mailpit: Mailpit, options: { admin?: boolean; displayName?: string } = {}): Promise<SignedUp> {
  const email = options.admin ? identity.adminEmail : newEmail();
  const password = strongPassword();
  const client = identity.client();
  const { user } = await client.register({ email, password, displayName: options.displayName ?? "Test Shopper" });
  const [verification] = await mailpit.waitFor(email, 1);
  await client.verifyEmail({ token: tokenOf(linkIn(verification!.Text, `${STOREFRONT}/verify-email?token=`)) });
  if (options.admin) await grantFirstAdmin(identity.service.runtime.database, email);
  const { tokens } = await client.login({ email, password });
  return { userId: user!.id, email, accessToken: tokens!.accessToken };
}
