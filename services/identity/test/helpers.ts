// Shared by identity's tests: a real identity service (PostgreSQL, NATS, Consul) on port 0 with a
// unique name, gRPC clients carrying a client address, Connect JSON over fetch, and the events the
// service wrote to its outbox (where the tokens mailed to users can be read, sealed to the development
// key of the notification service).
import { eventually } from "@bazaar/platform/testing";
import { randomBytes } from "node:crypto";
import { fromBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pg from "pg";
import { createOpener, createService, DEVELOPMENT_SEALING_PRIVATE_KEY, loadConfig, type Database, type RunningService } from "@bazaar/platform";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { EmailVerificationRequestedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { grantFirstAdmin, identity, identityConfigSchema } from "../src/index.ts";

export type IdentityClient = Client<typeof IdentityService>;

export interface StartedIdentity {
  service: RunningService<Database>;
  name: string;
  /** A gRPC client whose calls come from `ip` (x-forwarded-for), with an optional bearer token. */
  client(options?: { token?: string; ip?: string }): IdentityClient;
  /** POSTs Connect JSON to `method`; returns the status and parsed body. */
  json(method: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Events of `schema` in the outbox, oldest first. */
  events<Desc extends DescMessage>(schema: Desc): Promise<MessageShape<Desc>[]>;
  sql<T = Record<string, unknown>>(query: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export const unique = (prefix = "u") => `${prefix}-${randomBytes(5).toString("hex")}`;
export const randomIp = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 250) + 1).join(".")}`;
export const strongPassword = () => `Tr0ub4dor-${randomBytes(6).toString("hex")}`;

export async function startIdentity(overrides: Record<string, string> = {}): Promise<StartedIdentity> {
  const name = unique("identity");
  const env = {
    ...process.env,
    BAZAAR_ENV: "development",
    LOG_LEVEL: process.env.IDENTITY_TEST_LOG_LEVEL ?? "silent",
    SHUTDOWN_GRACE_MS: "2000",
    ...overrides,
  };
  const config = loadConfig(identityConfigSchema, env);
  const definition = identity({ config, name });
  const service = await createService(definition, { config, verifier: definition.verifier });
  const baseUrl = `http://${service.address}`;
  const database = service.runtime.database;

  return {
    service,
    name,
    client({ token, ip = randomIp() } = {}) {
      const headers: Interceptor = (next) => (req) => {
        req.header.set("x-forwarded-for", ip);
        req.header.set("user-agent", "identity-test/1.0");
        if (token) req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      };
      return createClient(IdentityService, createGrpcTransport({ baseUrl, interceptors: [headers] }));
    },
    async json(method, body, token) {
      const response = await fetch(`${baseUrl}/bazaar.identity.v1.IdentityService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": randomIp(), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    async events(schema) {
      const rows = await database.em().execute<Array<{ payload: Buffer }>>(
        "select payload from platform_outbox where type_name = ? order by event_id",
        [schema.typeName],
      );
      return rows.map((row) => fromBinary(schema, new Uint8Array(row.payload)));
    },
    sql: (query, params = []) => database.em().execute(query, params as never[]) as never,
    async stop() {
      await service.stop();
      const admin = new pg.Client({ connectionString: config.DATABASE_URL });
      await admin.connect();
      await admin.query(`drop database if exists "bazaar_${name.replaceAll("-", "_")}" with (force)`);
      await admin.query(`drop role if exists "bazaar_${name.replaceAll("-", "_")}"`);
      await admin.end();
    },
  };
}

const developmentOpener = createOpener(DEVELOPMENT_SEALING_PRIVATE_KEY);

/** The token a verification or reset event carries, opened as the notification service would (development key). */
export async function mailedToken(event: { $typeName: string; userId: string; sealedToken: string }): Promise<string> {
  const purpose = event.$typeName === EmailVerificationRequestedSchema.typeName ? "verify_email" : "reset_password";
  return (await developmentOpener).open(event.sealedToken, `${purpose}:${event.userId}`);
}

/**
 * Registers an account, verifies its email and signs in; returns its id and tokens. With `admin`, the
 * account is made the first admin as an operator would (admin:bootstrap) before it signs in.
 */
export async function signedUpUser(identityService: StartedIdentity, options: { email?: string; password?: string; admin?: boolean } = {}) {
  const email = options.email ?? `${unique("shopper")}@example.com`;
  const password = options.password ?? strongPassword();
  const anonymous = identityService.client();
  const { user } = await anonymous.register({ email, password, displayName: "Test Shopper" });
  const verification = (await identityService.events(EmailVerificationRequestedSchema)).find((e) => e.userId === user!.id);
  await anonymous.verifyEmail({ token: await mailedToken(verification!) });
  if (options.admin) {
    const outcome = await grantFirstAdmin(identityService.service.runtime.database, email);
    if (outcome !== "granted") throw new Error(`signedUpUser: first admin not granted (${outcome}); one admin per test identity`);
  }
  const { tokens } = await anonymous.login({ email, password });
  return { userId: user!.id, email, password, tokens: tokens!, client: identityService.client({ token: tokens!.accessToken }) };
}

export { eventually };
