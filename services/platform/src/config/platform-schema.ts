// The variables every service shares, in pieces a service combines with its own:
//
//     const config = loadConfig(z.object({ ...serviceConfig, ...databaseConfig, ...natsConfig, ...authConfig,
//       PAYMENT_PROVIDER_KEY: secret(z.string().min(1), { development: "test-key" }) }));
//
// or the whole set: loadConfig(platformConfigSchema.extend({ … })). Defaults fit the local stack;
// variables that may carry credentials are secrets, with defaults only in development.
import { z } from "zod";
import { parseUpstreams, type Upstreams } from "../clients/upstreams.ts";
import { defaultsByMode, secret } from "../config.ts";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const postgresUrl = z.string().refine((s) => /^postgres(ql)?:\/\//.test(s) && URL.canParse(s), "must be a postgres:// URL");
const natsUrls = z
  .string()
  .refine((s) => s.split(",").every((u) => /^(nats|tls|ws|wss):\/\//.test(u.trim()) && URL.canParse(u.trim())), "must be nats:// URLs, comma-separated");

/** Serving, discovery, lifecycle, logs and traces. */
export const serviceConfig = {
  /** "development" for local development (defaults for secrets, migrations on start); else production. */
  BAZAAR_ENV: z.enum(["development", "production"]).default("production"),
  /** Interface to listen on. */
  SERVICE_HOST: z.string().min(1).default("127.0.0.1"),
  /** Port to listen on; 0 picks a free one (it is what Consul gets told). */
  PORT: port.default(0),
  /**
   * This process's stable name among its service's instances: it survives a restart (a pod name; the
   * local stack's `<service>-<n>`) and two live processes never share it. Work a service leases (the
   * order saga) is recorded under it, so a restarted instance resumes at once what its predecessor held.
   * Unset: "<hostname>/<PORT>" when PORT is fixed, else none (each process is new; leases run out).
   */
  INSTANCE_ID: z.string().trim().min(1).max(200).optional(),
  /** Address other services reach this instance at (registered in Consul). Default: SERVICE_HOST. */
  ADVERTISE_ADDRESS: z.string().min(1).optional(),
  /**
   * Consul names of the services this one calls, where they differ from the default (the package's
   * name): "catalog=catalog-blue,inventory=inventory-2". Unset: the default names.
   */
  UPSTREAMS: z
    .string()
    .optional()
    .transform((text, context): Upstreams | undefined => {
      if (text === undefined) return undefined;
      const upstreams = parseUpstreams(text);
      if (!upstreams) context.addIssue({ code: "custom", message: 'must be "name=consul-name" pairs, comma-separated' });
      return upstreams;
    }),
  /** Consul agent HTTP API, host:port. */
  CONSUL_HTTP_ADDR: z.string().min(1).default("127.0.0.1:8500"),
  /** How long SIGTERM waits for in-flight calls and consumers before closing anyway. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** OTLP/HTTP base endpoint for traces; unset: spans are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Share of new traces recorded, 0..1 (parent-based: calls inside a trace follow its caller). Default 1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
};

/** The service's PostgreSQL. */
export const databaseConfig = {
  /** Server URL (credentials included); the service uses its own database `bazaar_<service>` on it. */
  DATABASE_URL: secret(postgresUrl, { development: "postgres://postgres@127.0.0.1:5432/postgres" }),
  DB_POOL_SIZE: positiveInt.max(1000).default(10),
  /**
   * Connect as the service's own role (named like its database, owning only it), made by the platform
   * with DATABASE_URL as the administrator's. Default: true in development (the local server trusts
   * local connections), false in production, where DATABASE_URL is the service's own role's.
   */
  DATABASE_OWN_ROLE: defaultsByMode(z.stringbool(), { development: "true", production: "false" }),
  /** Apply committed migrations at start. Default: true in development, false in production. */
  MIGRATE_ON_START: defaultsByMode(z.stringbool(), { development: "true", production: "false" }),
};

/** NATS JetStream. */
export const natsConfig = {
  /** Server URL(s), comma-separated; may carry credentials. */
  NATS_URL: secret(natsUrls, { development: "nats://127.0.0.1:4222" }),
  /**
   * Where a durable consumer created for the first time starts reading: "all" (the stream's whole
   * retained history, so a new service catches up) or "new" (only events published from then on:
   * test runs against a long-lived NATS whose streams hold every earlier run's events). Once created,
   * a durable keeps its position either way.
   */
  EVENTS_NEW_CONSUMER_START: z.enum(["all", "new"]).default("all"),
  /**
   * How long each domain stream keeps events, in hours (0 = forever): the history a consumer that was
   * down, or a new service, can still catch up on. One value for the whole mesh (every service ensures
   * the streams it uses with it).
   */
  EVENTS_RETENTION_HOURS: z.coerce.number().int().min(0).max(87_600).default(168),
  /** How long the dead-letter stream keeps messages for people to inspect, in hours (0 = forever). */
  EVENTS_DLQ_RETENTION_HOURS: z.coerce.number().int().min(0).max(87_600).default(720),
  /** Copies JetStream keeps of each stream (num_replicas): 1 on a single server, 3 on the prod overlay's 3-node cluster. */
  EVENTS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
};

/** Consul name of identity, the token issuer (its JWKS and its service tokens are found under it). */
const identityServiceName = z.string().min(1).default("identity");

/** Verifying bearer tokens. */
export const authConfig = {
  /**
   * A fixed URL of identity's JWKS (e.g. a Kubernetes Service). Unset: found through Consul when
   * AUTH_JWKS_DISCOVERY is on, else no token verifies.
   */
  AUTH_JWKS_URL: z.url().optional(),
  /**
   * Without AUTH_JWKS_URL, fetch the JWKS from a passing instance of IDENTITY_SERVICE_NAME in Consul,
   * so verification follows identity across restarts and instances. Default: on in production, off in
   * development (a lone service or a test with its own signer verifies nothing unless told).
   */
  AUTH_JWKS_DISCOVERY: defaultsByMode(z.stringbool(), { development: "false", production: "true" }),
  IDENTITY_SERVICE_NAME: identityServiceName,
  /**
   * How far back each service reads identity's UserDisabled/UserDeleted events at start, and how long
   * it remembers one: at least the access-token lifetime (15 min) plus clock skew.
   */
  AUTH_REVOCATION_LOOKBACK_SECONDS: positiveInt.default(1200),
  AUTH_ISSUER: z.string().min(1).default("bazaar-identity"),
  AUTH_AUDIENCE: z.string().min(1).default("bazaar"),
};

/**
 * The client secret every service has in local development (identity accepts it for any service name
 * while IDENTITY_SERVICE_CLIENTS is unset there). Never accepted outside BAZAAR_ENV=development.
 */
export const DEVELOPMENT_SERVICE_CLIENT_SECRET = "development-only-service-secret";

/** Getting this service's own token from identity (calls it makes on its own authority). */
export const serviceCredentialsConfig = {
  /**
   * This service's client secret for identity's IssueServiceToken (identity keeps only its SHA-256).
   * Required in production (openssl rand -base64 32); the development default works with the local stack.
   */
  SERVICE_CLIENT_SECRET: secret(z.string().min(16, "must be at least 16 characters").optional(), { development: DEVELOPMENT_SERVICE_CLIENT_SECRET }),
  /** Consul name of the token issuer. */
  IDENTITY_SERVICE_NAME: identityServiceName,
};

/** Every platform variable. */
export const platformConfigSchema = z.object({ ...serviceConfig, ...databaseConfig, ...natsConfig, ...authConfig, ...serviceCredentialsConfig });

export type PlatformConfig = z.output<typeof platformConfigSchema>;
