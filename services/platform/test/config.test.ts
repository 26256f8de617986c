// loadConfig and the platform's shared variables, as plain functions over a given environment.
import test from "ava";
import { z } from "zod";
import { ConfigError, configMode, defaultsByMode, loadConfig, secret } from "../src/config.ts";
import { platformConfigSchema, serviceConfig } from "../src/config/platform-schema.ts";

const dev = { BAZAAR_ENV: "development" };
const productionEnv = {
  DATABASE_URL: "postgres://catalog:s3cret@db.internal:5432/postgres",
  NATS_URL: "nats://nats-0.nats:4222,nats://nats-1.nats:4222",
  AUTH_JWKS_URL: "http://identity.bazaar.svc:8080/.well-known/jwks.json",
  SERVICE_CLIENT_SECRET: "q8Vn0x4Kc2mZ7rT1yLw5hB3dF6gJ9sPa",
};

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("no ConfigError");
}

test("in development every platform variable has a local-stack default", (t) => {
  const config = loadConfig(platformConfigSchema, dev);
  t.deepEqual(config, {
    BAZAAR_ENV: "development",
    SERVICE_HOST: "127.0.0.1",
    PORT: 0,
    INSTANCE_ID: undefined,
    ADVERTISE_ADDRESS: undefined,
    UPSTREAMS: undefined,
    CONSUL_HTTP_ADDR: "127.0.0.1:8500",
    SHUTDOWN_GRACE_MS: 10_000,
    LOG_LEVEL: "info",
    OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
    OTEL_TRACES_SAMPLER_ARG: undefined,
    DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
    DB_POOL_SIZE: 10,
    MIGRATE_ON_START: true,
    DATABASE_OWN_ROLE: true,
    NATS_URL: "nats://127.0.0.1:4222",
    EVENTS_NEW_CONSUMER_START: "all",
    EVENTS_RETENTION_HOURS: 168,
    EVENTS_DLQ_RETENTION_HOURS: 720,
    EVENTS_STREAM_REPLICAS: 1,
    AUTH_JWKS_URL: undefined,
    AUTH_JWKS_DISCOVERY: false,
    AUTH_REVOCATION_LOOKBACK_SECONDS: 1200,
    AUTH_ISSUER: "bazaar-identity",
    AUTH_AUDIENCE: "bazaar",
    SERVICE_CLIENT_SECRET: "development-only-service-secret",
    IDENTITY_SERVICE_NAME: "identity",
  });
});

test("values are coerced from their environment strings", (t) => {
  const config = loadConfig(platformConfigSchema, {
    ...dev,
    PORT: "8080",
    DB_POOL_SIZE: "25",
    MIGRATE_ON_START: "no",
    SHUTDOWN_GRACE_MS: "2500",
    LOG_LEVEL: "debug",
    EVENTS_RETENTION_HOURS: "0",
  });
  t.is(config.PORT, 8080);
  t.is(config.EVENTS_RETENTION_HOURS, 0);
  t.is(config.DB_POOL_SIZE, 25);
  t.is(config.MIGRATE_ON_START, false);
  t.is(config.SHUTDOWN_GRACE_MS, 2500);
  t.is(config.LOG_LEVEL, "debug");
});

test("every problem is reported at once, each naming its variable and the offending value", (t) => {
  const error = problemsOf(() =>
    loadConfig(platformConfigSchema, { ...dev, PORT: "eighty", DB_POOL_SIZE: "0", LOG_LEVEL: "loud", AUTH_JWKS_URL: "identity", MIGRATE_ON_START: "maybe" }),
  );
  t.deepEqual(error.problems.map((p) => p.variable).sort(), ["AUTH_JWKS_URL", "DB_POOL_SIZE", "LOG_LEVEL", "MIGRATE_ON_START", "PORT"]);
  for (const name of ["PORT", "DB_POOL_SIZE", "LOG_LEVEL", "AUTH_JWKS_URL", "MIGRATE_ON_START"]) t.true(error.message.includes(`- ${name}: `), name);
  t.true(error.message.includes('"eighty"'));
  t.true(error.message.startsWith("invalid configuration (BAZAAR_ENV=development)"));
});

test("without BAZAAR_ENV it is production: secrets and production-required variables have no defaults", (t) => {
  t.is(configMode({}), "production");
  const error = problemsOf(() => loadConfig(platformConfigSchema, {}));
  // AUTH_JWKS_URL may stay unset: production finds identity's JWKS through Consul (AUTH_JWKS_DISCOVERY).
  t.deepEqual(error.problems.map((p) => p.variable).sort(), ["DATABASE_URL", "NATS_URL", "SERVICE_CLIENT_SECRET"]);
  t.regex(error.message, /DATABASE_URL: required \(its default applies only with BAZAAR_ENV=development\)/);
  t.regex(error.message, /set BAZAAR_ENV=development/);

  const config = loadConfig(platformConfigSchema, productionEnv);
  t.is(config.BAZAAR_ENV, "production");
  t.is(config.MIGRATE_ON_START, false, "migrations are not applied at start in production unless asked");
  t.false(config.DATABASE_OWN_ROLE, "production gives each service its own role's URL");
  t.true(loadConfig(platformConfigSchema, { ...productionEnv, AUTH_JWKS_URL: "" }).AUTH_JWKS_DISCOVERY, "the JWKS is found through Consul in production");
  t.false(loadConfig(platformConfigSchema, dev).AUTH_JWKS_DISCOVERY, "and only when asked in development");
  t.is(config.DATABASE_URL, productionEnv.DATABASE_URL);
});

test("values of secrets never appear in errors, values of other variables do", (t) => {
  const error = problemsOf(() =>
    loadConfig(platformConfigSchema, { ...productionEnv, DATABASE_URL: "mysql://catalog:hunter2@db:3306/x", NATS_URL: "http://user:pw@nats", PORT: "-1" }),
  );
  t.deepEqual(error.problems.map((p) => p.variable).sort(), ["DATABASE_URL", "NATS_URL", "PORT"]);
  t.false(error.message.includes("hunter2"));
  t.false(error.message.includes("pw@"));
  t.true(error.message.includes('"-1"'));
});

test("empty variables count as unset", (t) => {
  const config = loadConfig(platformConfigSchema, { ...dev, PORT: "", AUTH_JWKS_URL: "" });
  t.is(config.PORT, 0);
  t.is(config.AUTH_JWKS_URL, undefined);
  t.deepEqual(
    problemsOf(() => loadConfig(platformConfigSchema, { ...productionEnv, DATABASE_URL: "" })).problems.map((p) => p.variable),
    ["DATABASE_URL"],
  );
});

test("an unknown BAZAAR_ENV is refused rather than guessed", (t) => {
  const error = problemsOf(() => loadConfig(platformConfigSchema, { BAZAAR_ENV: "dev" }));
  t.is(error.problems[0]?.variable, "BAZAAR_ENV");
});

test("a service adds its own variables; a secret may not carry a default of its own", (t) => {
  const schema = z.object({
    ...serviceConfig,
    PAYMENT_API_KEY: secret(z.string().min(10), { development: "local-test-key" }),
    CHECKOUT_HOLD_MINUTES: z.coerce.number().int().positive().default(15),
  });
  t.is(loadConfig(schema, dev).PAYMENT_API_KEY, "local-test-key");
  t.is(loadConfig(schema, { PAYMENT_API_KEY: "live-key-0123456789" }).PAYMENT_API_KEY, "live-key-0123456789");
  t.deepEqual(
    problemsOf(() => loadConfig(schema, {})).problems.map((p) => p.variable),
    ["PAYMENT_API_KEY"],
  );
  t.throws(() => loadConfig(z.object({ TOKEN: secret(z.string().default("oops")) }), dev), { instanceOf: TypeError, message: /TOKEN/ });
});

test("mode defaults mark only the schema they return, not a schema shared elsewhere", (t) => {
  const shared = z.string();
  const withDefault = defaultsByMode(shared, { development: "x" });
  t.is(loadConfig(z.object({ A: withDefault }), dev).A, "x");
  t.deepEqual(
    problemsOf(() => loadConfig(z.object({ A: shared }), dev)).problems,
    [{ variable: "A", message: "required (not set)" }],
  );
});
