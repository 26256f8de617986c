// `@bazaar/platform/testing`: what every service's integration tests need, once. Real PostgreSQL,
// NATS and Consul come from `npm test`'s environment; tokens are signed with keys made here, in the
// shape identity issues (see auth/token-verifier.ts).
import http2 from "node:http2";
import { randomBytes, randomUUID } from "node:crypto";
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { z } from "zod";
import { BadRequestSchema, ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import pg from "pg";
import { Writable } from "node:stream";
import { fromBinary, toBinary, type DescMessage, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { connect, DeliverPolicy, headers as natsHeaders } from "nats";
import { eventTypeHeader, subjectFor } from "./events/subjects.ts";
import { natsServers } from "./events/nats-servers.ts";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createDatabase, serviceDatabaseName, type Database, type DatabaseOptions } from "./data/database.ts";
import { loadConfig } from "./config.ts";
import { platformConfigSchema, type PlatformConfig } from "./config/platform-schema.ts";
import { createService, type RunningService, type ServiceDefinition, type ServiceOptions } from "./service.ts";
import { CART_TOKEN_HEADER } from "./headers.ts";

/** The environment a test service runs with: local development, silent logs, a short grace period. */
export const testEnv: NodeJS.ProcessEnv = {
  ...process.env,
  BAZAAR_ENV: "development",
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  SHUTDOWN_GRACE_MS: "3000",
  // The shared NATS keeps every earlier run's events: a test's new durables start at the end.
  EVENTS_NEW_CONSUMER_START: "new",
};

/** `<prefix>-<8 hex>`: unique Consul names, databases (bazaar_<prefix>_<hex>) and durables per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * What NATS made of an operation tried under a user's permissions: "allowed", "refused" (a permission
 * violation) or "failed otherwise: …", so a test can tell a refusal from any other failure.
 */
export function natsPermissionOutcome(what: Promise<unknown>): Promise<string> {
  return what.then(
    () => "allowed",
    (error: Error) => (/permissions? violation/i.test(error.message) ? "refused" : `failed otherwise: ${error.message}`),
  );
}

/**
 * Polls `probe` every `intervalMs` until it returns something truthy, and returns that. After
 * `timeoutMs` it fails with "timed out after <ms> ms waiting for <what>" (a function is read then),
 * so a failing test says what never happened; a probe that throws fails at once. The one way tests
 * wait for a condition: never a fixed sleep.
 */
export async function eventually<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A passing instance as Consul's health endpoint lists it. */
export interface PassingInstance {
  Service: { ID: string; Address: string; Port: number; Tags: string[] };
}

/** The instances of `name` Consul lists as passing (none when Consul does not answer 2xx). */
export async function passingInstances(name: string, consulAddr = testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500"): Promise<PassingInstance[]> {
  const response = await fetch(`http://${consulAddr}/v1/health/service/${encodeURIComponent(name)}?passing=true`);
  return response.ok ? ((await response.json()) as PassingInstance[]) : [];
}

/** Waits until Consul lists a passing instance of `name` (its first health check has run): callers reach only those. */
export async function passingInConsul(name: string, options: { consulAddr?: string; timeoutMs?: number } = {}): Promise<void> {
  await eventually(`${name} to pass in Consul`, async () => (await passingInstances(name, options.consulAddr)).length > 0, options.timeoutMs ?? 30_000);
}

/** URL of the database createService gives the service named `name` (bazaar_<name, - → _>). */
export function serviceDatabaseUrl(name: string, env: NodeJS.ProcessEnv = testEnv): string {
  const url = new URL(env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/${serviceDatabaseName(name)}`;
  return url.toString();
}

/** Drops the database of the service named `name`, closing its connections, and its own role (see DATABASE_OWN_ROLE). */
export async function dropServiceDatabase(name: string, env: NodeJS.ProcessEnv = testEnv): Promise<void> {
  const admin = new pg.Client({ connectionString: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  const dbName = serviceDatabaseName(name);
  try {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(dbName)} with (force)`);
    await admin.query(`drop role if exists ${pg.escapeIdentifier(dbName)}`);
  } finally {
    await admin.end();
  }
}

/**
 * What MikroORM would still change to make a fresh database, migrated with `migrations`, match
 * `entities`: the statements of its schema diff (`getUpdateSchemaSQL`), without comments. Empty when
 * the entities and the migrations describe the same tables, except for what entities do not state and
 * the migrations alone own, left out here: CHECK constraints, foreign keys (entities keep references
 * as plain id columns: queries are SQL and Kysely, not object graphs), partial, expression and
 * non-btree indexes (GIN, trigram), triggers and functions. Runs in a database of its own, dropped
 * afterwards.
 */
export async function schemaDrift(options: Pick<DatabaseOptions, "entities" | "migrations" | "events">): Promise<string[]> {
  const name = uniqueName("drift");
  const url = testEnv.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const logger = createLogger({ service: "schema-drift", level: "silent" });
  const database = await createDatabase({ ...options, url, dbName: serviceDatabaseName(name), poolSize: 2, logger });
  try {
    const migrationsOnly = new Set(
      (
        await database.em().execute<{ name: string }[]>(
          `select conname as name from pg_constraint where contype in ('c', 'f') and connamespace = 'public'::regnamespace
           union all
           select c.relname from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
            where c.relnamespace = 'public'::regnamespace and (i.indpred is not null or i.indexprs is not null or a.amname <> 'btree')`,
        )
      ).map((row) => row.name),
    );
    const text = await database.orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
    return text
      .split(/;\n/)
      .map((statement) => statement.replace(/^--.*$/gm, "").trim().replace(/;$/, ""))
      .filter((statement) => statement.length > 0)
      .filter((statement) => {
        if (/^drop (trigger|function) /.test(statement)) return false;
        const dropped = /(?:drop constraint|^drop index) "([^"]+)"$/.exec(statement)?.[1];
        return !(dropped && migrationsOnly.has(dropped));
      });
  } finally {
    await database.close();
    await dropServiceDatabase(name);
  }
}

export interface TestSigner {
  readonly publicJwk: JWK;
  /** A verifier of this signer's tokens, for createService's `verifier` option. */
  readonly verifier: TokenVerifier;
  /**
   * An access token for `subject` with `roles` (default: a new user, customer), or a service token;
   * `jti` (default a random UUID) and `issuedAt` (seconds, default now) for tests of the issue time.
   */
  token(options?: { subject?: string; roles?: string[]; service?: boolean; expiresIn?: string; jti?: string; issuedAt?: number }): Promise<string>;
}

/** An EdDSA key pair standing in for identity's: tokens it signs verify like identity's do. */
export async function createTestSigner(): Promise<TestSigner> {
  const kid = uniqueName("test-key");
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return {
    publicJwk,
    verifier: createTokenVerifier({ jwks: { keys: [publicJwk] }, issuer: "bazaar-identity", audience: "bazaar" }),
    token: ({ subject = randomUUID(), roles = ["customer"], service = false, expiresIn = "10m", jti = randomUUID(), issuedAt } = {}) =>
      new SignJWT({ roles, ...(service ? { svc: true } : {}) })
        .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
        .setIssuer("bazaar-identity")
        .setAudience("bazaar")
        .setSubject(subject)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresIn)
        .setJti(jti)
        .sign(privateKey),
  };
}

/** A client interceptor sending `Authorization: Bearer <token>` (none when undefined). */
export function bearer(token: string | undefined): Interceptor {
  return (next) => (request) => {
    if (token) request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}

/** A client interceptor sending a guest cart's token in `x-cart-token` (none when undefined). */
export function cartToken(token: string | undefined): Interceptor {
  return (next) => (request) => {
    if (token) request.header.set(CART_TOKEN_HEADER, token);
    return next(request);
  };
}

/** A gRPC client of `contract` at `address` (host:port), e.g. a service a test runs as a child process. */
export function clientAt<S extends DescService>(contract: S, address: string, ...interceptors: Interceptor[]): Client<S> {
  return createClient(contract, createGrpcTransport({ baseUrl: `http://${address}`, interceptors }));
}

/** What a refused call said: its code, message, the fields its BadRequest names and its ErrorInfo reason. */
export interface Failure {
  /** undefined when the call succeeded. */
  code: Code | undefined;
  message: string;
  fields: string[];
  reason: string | undefined;
}

/** Runs `call`, expecting a ConnectError, and returns what it said (code undefined if it succeeded). */
export async function failure(call: Promise<unknown>): Promise<Failure> {
  try {
    await call;
  } catch (error) {
    const e = ConnectError.from(error);
    return {
      code: e.code,
      message: e.rawMessage,
      fields: e.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field)),
      reason: e.findDetails(ErrorInfoSchema)[0]?.reason,
    };
  }
  return { code: undefined, message: "succeeded", fields: [], reason: undefined };
}

/** A debug-level logger whose JSON lines land in `lines`, for tests that assert on logs. */
export function capturingLogger(service = "test"): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ service, level: "debug", destination }), lines };
}

/**
 * Publishes `event` on its domain's stream as a service's relay would (subject, event-type header,
 * Nats-Msg-Id = `msgId`, default its event_id): for tests of consumers without the publishing service.
 */
export async function publishEvent<Desc extends DescMessage>(schema: Desc, event: MessageShape<Desc>, msgId?: string): Promise<void> {
  const nats = await connect(natsServers(testEnv.NATS_URL ?? "nats://127.0.0.1:4222"));
  try {
    const headers = natsHeaders();
    headers.set(eventTypeHeader, schema.typeName);
    const id = msgId ?? String((event as { eventId?: string }).eventId ?? "");
    await nats.jetstream().publish(subjectFor(schema.typeName), toBinary(schema, event), { ...(id ? { msgID: id } : {}), headers });
  } finally {
    await nats.close();
  }
}

/** A message read from a stream by readStream. */
export interface StreamMessage {
  subject: string;
  data: Uint8Array;
  /** Its Nats-Msg-Id ("" when none). */
  msgId: string;
}

export interface ReadStreamOptions<T> {
  /** e.g. "BAZAAR_ORDER". */
  stream: string;
  /** One filter subject (several need NATS 2.10), e.g. "bazaar.order.>" or one event's subject. */
  subject: string;
  /** Read from this time on (the stream keeps other runs' events; `pick` skips other tests'). */
  since: Date;
  /** What a message means to the test, or undefined to skip it. */
  pick: (message: StreamMessage) => T | undefined;
  /** How many picked messages to wait for. Default 1. */
  count?: number;
  /** Default 20 s. */
  timeoutMs?: number;
  /** Named in the error when fewer than `count` arrive in time. */
  what: string;
}

/**
 * Reads `subject` of `stream` from `since` with an ephemeral ordered consumer until `count` messages
 * were picked, and returns them in stream order: how tests see what a service published.
 */
export async function readStream<T>(options: ReadStreamOptions<T>): Promise<T[]> {
  const { count = 1, timeoutMs = 20_000 } = options;
  const nats = await connect(natsServers(testEnv.NATS_URL ?? "nats://127.0.0.1:4222"));
  try {
    const consumer = await nats.jetstream().consumers.get(options.stream, {
      filterSubjects: options.subject,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: options.since.toISOString(),
    });
    const picked: T[] = [];
    const messages = await consumer.consume();
    const timer = setTimeout(() => void messages.stop(), timeoutMs);
    try {
      for await (const message of messages) {
        const value = options.pick({ subject: message.subject, data: message.data, msgId: message.headers?.get("Nats-Msg-Id") ?? "" });
        if (value !== undefined) picked.push(value);
        if (picked.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
      void messages.stop();
    }
    if (picked.length < count) throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what}: ${picked.length} of ${count} arrived on ${options.stream}`);
    return picked;
  } finally {
    await nats.close();
  }
}

/** What perFile needs of ava's `test`. */
export interface FileHooks {
  before(fn: () => Promise<void>): void;
  after: { always(fn: () => Promise<void>): void };
}

/**
 * Starts something once for all the tests of a file (a mesh, a database) and tears it down after them,
 * in reverse order of the teardowns `start` registered: `const mesh = perFile(test, (teardown) =>
 * startMesh({ teardown }))`, then `mesh()` inside the tests.
 */
export function perFile<T>(test: FileHooks, start: (teardown: (fn: () => Promise<void> | void) => void) => Promise<T>): () => T {
  let value: T | undefined;
  const teardowns: (() => Promise<void> | void)[] = [];
  test.before(async () => {
    value = await start((fn) => void teardowns.push(fn));
  });
  test.after.always(async () => {
    for (const fn of teardowns.reverse()) await fn();
  });
  return () => value!;
}

/** `message` in the gRPC / Connect-streaming envelope: a flags byte (1 = compressed) and a 4-byte length. */
export function grpcEnvelope(message: Uint8Array, flags = 0): Uint8Array {
  const framed = new Uint8Array(5 + message.byteLength);
  framed[0] = flags;
  new DataView(framed.buffer).setUint32(1, message.byteLength);
  framed.set(message, 5);
  return framed;
}

/** The grpc-status of one raw gRPC call over HTTP/2 (`body` already enveloped), for tests of the wire. */
export async function rawGrpcStatus(baseUrl: string, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<string | undefined> {
  const session = http2.connect(baseUrl);
  try {
    return await new Promise<string | undefined>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
      let status: string | undefined;
      stream.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
      stream.on("trailers", (trailers) => (status = trailers["grpc-status"] as string | undefined));
      stream.on("data", () => undefined);
      stream.on("end", () => resolve(status));
      stream.on("error", reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

/** The grpc-status of one raw gRPC-Web call over HTTP/1.1: from the trailer frame, or the headers of a trailers-only answer. */
export async function rawGrpcWebStatus(baseUrl: string, path: string, body: Uint8Array): Promise<string | undefined> {
  const response = await fetch(baseUrl + path, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body });
  const text = new TextDecoder().decode(await response.arrayBuffer());
  return /grpc-status:\s*(\d+)/i.exec(text)?.[1] ?? response.headers.get("grpc-status") ?? undefined;
}

/** One service started in-process on port 0 for its own tests: typed clients, its database, its outbox. */
export interface TestService<S extends DescService, Data extends Database | undefined = Database | undefined> {
  name: string;
  /** Its runtime's `database` is a Database when the definition declares one. */
  service: RunningService<Data>;
  signer: TestSigner;
  baseUrl: string;
  /** gRPC clients signed as an admin, as another service (a service token), as a customer, and anonymously. */
  admin: Client<S>;
  peer: Client<S>;
  customer: Client<S>;
  anonymous: Client<S>;
  /** A client with this bearer token (undefined: none). */
  clientWith(token: string | undefined): Client<S>;
  /** A query on the service's own database ($1 placeholders). */
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** The events of one type the service wrote to its outbox, decoded, oldest first. */
  outbox<Desc extends DescMessage>(schema: Desc): Promise<MessageShape<Desc>[]>;
  /** Stops the service, keeping its database (for a second instance sharing it). */
  stopInstance(): Promise<void>;
  /** Stops the service and drops its database. */
  stop(): Promise<void>;
}

export interface TestServiceOptions<Config extends PlatformConfig, Data extends Database | undefined = Database | undefined> {
  /** The service's contract, for the typed clients. */
  contract: DescService;
  /** Builds the definition under the unique `name` given to this run (Consul name and database). */
  define(name: string, config: Config): ServiceDefinition<Data>;
  /** Prefix of the unique name, e.g. "payment". */
  prefix: string;
  /** Instead of a unique name: another instance's, to share its database (stop it with stopInstance). */
  name?: string;
  /** The service's config schema (default the platform's), read from testEnv and `env`. */
  configSchema?: z.ZodObject;
  env?: Record<string, string>;
  /** Default: a new test signer (its tokens verify, identity's do not). */
  signer?: TestSigner;
  /** The service's verifier (e.g. of a real identity's tokens). Default: the signer's. */
  verifier?: TokenVerifier;
  /** The subject of `peer`'s service token, e.g. "order" (default "peer-service"). */
  peerSubject?: string;
}

/** Starts one service with a test signer's verifier; `t.teardown(harness.stop)` is the caller's. */
export async function startTestService<S extends DescService, Config extends PlatformConfig = PlatformConfig, Data extends Database | undefined = Database | undefined>(
  options: TestServiceOptions<Config, Data> & { contract: S },
): Promise<TestService<S, Data>> {
  const name = options.name ?? uniqueName(options.prefix);
  const signer = options.signer ?? (await createTestSigner());
  const config = loadConfig(options.configSchema ?? platformConfigSchema, { ...testEnv, ...options.env }) as Config;
  const service = await createService(options.define(name, config), { config, verifier: options.verifier ?? signer.verifier });
  const baseUrl = `http://${service.address}`;
  const clientWith = (token: string | undefined) => createClient(options.contract, createGrpcTransport({ baseUrl, interceptors: [bearer(token)] }));
  const pool = new pg.Pool({ connectionString: serviceDatabaseUrl(name), max: 2 });
  const sql = async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) => (await pool.query<T>(text, params)).rows;
  return {
    name,
    service,
    signer,
    baseUrl,
    admin: clientWith(await signer.token({ subject: "admin-1", roles: ["customer", "admin"] })),
    peer: clientWith(await signer.token({ subject: options.peerSubject ?? "peer-service", service: true })),
    customer: clientWith(await signer.token({ subject: "user-1", roles: ["customer"] })),
    anonymous: clientWith(undefined),
    clientWith,
    sql,
    async outbox(schema) {
      const rows = await sql<{ payload: Buffer }>("select payload from platform_outbox where type_name = $1 order by id", [schema.typeName]);
      return rows.map((row) => fromBinary(schema, row.payload));
    },
    async stopInstance() {
      await pool.end();
      await service.stop();
    },
    async stop() {
      await pool.end();
      await service.stop();
      if (service.runtime.database) await dropServiceDatabase(name);
    },
  };
}

/**
 * One service of a test mesh, made with meshService. The mesh names it by a key, its default Consul
 * name ("cart"), which is also the subject of the service token the mesh gives it.
 */
export interface MeshService {
  /** Keys of the services it calls: their unique names become its UPSTREAMS. */
  readonly calls: readonly string[];
  /** Its variables over the mesh's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Starts one instance under `name`, with `env` (the whole environment) and, unless it brings its own, the mesh's verifier and credentials. */
  start(name: string, env: NodeJS.ProcessEnv, given: Required<Pick<ServiceOptions, "verifier" | "serviceCredentials">>): Promise<RunningService>;
}

export interface MeshServiceSpec<S extends z.ZodObject, Data extends Database | undefined, Def extends ServiceDefinition<Data>> {
  /** Its config schema (default the platform's), read from the mesh's env, then `env`. */
  configSchema?: S;
  /** Variables over the mesh's environment, for this service only. */
  env?: Record<string, string>;
  /** Builds the definition under the unique name the mesh gave it. */
  define(name: string, config: z.output<S>): Def;
  /** Keys of the services it calls (see MeshService.calls). */
  calls?: readonly string[];
  /** What it brings itself instead of the mesh's verifier and service token (identity, the issuer, brings both). */
  own?(definition: Def): Pick<ServiceOptions, "verifier" | "serviceCredentials">;
  /** Runs once it is up, before the next stage starts (e.g. seeding its data). */
  ready?(service: RunningService<Data>): Promise<unknown>;
}

/** A service for startTestMesh, typed by its config schema and definition. */
export function meshService<S extends z.ZodObject = typeof platformConfigSchema, Data extends Database | undefined = Database, Def extends ServiceDefinition<Data> = ServiceDefinition<Data>>(
  spec: MeshServiceSpec<S, Data, Def>,
): MeshService {
  return {
    calls: spec.calls ?? [],
    env: spec.env ?? {},
    async start(name, env, given) {
      const config = loadConfig(spec.configSchema ?? platformConfigSchema, env) as z.output<S> & PlatformConfig;
      const definition = spec.define(name, config);
      const service = await createService(definition, { config, ...given, ...spec.own?.(definition) });
      // The mesh stops only what started: an instance whose ready step failed is stopped here.
      await spec.ready?.(service).catch(async (error: unknown) => {
        await service.stop();
        throw error;
      });
      return service;
    },
  };
}

export interface TestMeshOptions<K extends string = string> {
  /**
   * The services, by key, started one stage after the other (a stage's services together): a service
   * that calls others at start, or whose start others need (identity, the token issuer), goes in a later stage.
   */
  stages: readonly Partial<Record<K, MeshService>>[];
  /** The environment every service starts from (default testEnv). */
  env?: NodeJS.ProcessEnv;
  /** Keys of services the mesh does not start but names (a test runs them itself), e.g. "order". */
  named?: readonly K[];
  /**
   * The verifier every service uses (default the signer's); built before anything starts, it may reach
   * started services lazily through `mesh.service`.
   */
  verifier?(mesh: TestMesh<K>): TokenVerifier;
}

/** Services started in-process, by key K (the caller lists every key it uses, called and named ones too). */
export interface TestMesh<K extends string = string> {
  /** Signs every service's token and the tests' (staff, customers, services). */
  signer: TestSigner;
  /**
   * Unique Consul names (and so databases) by key: of the services started, of those they call and of
   * `named` ones. A called service the mesh does not start is unique too: its calls never reach another run's.
   */
  names: Readonly<Record<K, string>>;
  /** The running instance of `key`. */
  service(key: K): RunningService;
  /** The environment `key` runs with (its UPSTREAMS and own variables included), e.g. for a child process of it. */
  envOf(key: K): NodeJS.ProcessEnv;
  /** A gRPC client of `key`'s latest instance: it follows a restart to the new address (a stopped one refuses, unavailable). */
  client<S extends DescService>(contract: S, key: K, ...interceptors: Interceptor[]): Client<S>;
  /** A query on `key`'s own database ($1 placeholders). */
  sql<T extends Record<string, unknown>>(key: K, text: string, params?: unknown[]): Promise<T[]>;
  /** Stops `key` (deregistered from Consul, drained, closed), keeping its name and database for restart. */
  stop(key: K): Promise<void>;
  /** Starts `key` again under its name, on its database, and waits until Consul lists it as passing. */
  restart(key: K): Promise<RunningService>;
  /**
   * Another instance of `key` under a new unique name and database, with `env` over its own; stopped and
   * dropped by `teardown` (default the mesh's).
   */
  another(key: K, env: Record<string, string>, teardown?: (fn: () => Promise<void>) => void): Promise<RunningService>;
}

/**
 * Starts a mesh of services in-process for one test or file (see perFile): one test signer, each service
 * under a unique Consul name with its service token and upstreams wired to the others' names, and waits
 * until every service another one calls passes in Consul. At teardown: the services' stops begun in
 * reverse start order, then every named database dropped. A failed start stops what did start.
 */
export async function startTestMesh<K extends string = string>(t: { teardown(fn: () => Promise<void> | void): void }, options: TestMeshOptions<K>): Promise<TestMesh<K>> {
  const services = new Map<string, MeshService>(options.stages.flatMap((stage) => Object.entries<MeshService | undefined>(stage).filter((entry): entry is [string, MeshService] => entry[1] !== undefined)));
  const calledKeys = [...services.values()].flatMap((service) => service.calls);
  const names: Record<string, string> = {};
  for (const key of [...services.keys(), ...calledKeys, ...(options.named ?? [])]) names[key] ??= uniqueName(key);
  const baseEnv = options.env ?? testEnv;
  const envs = new Map(
    [...services].map(([key, service]) => {
      const upstreams = service.calls.map((called) => `${called}=${names[called]}`).join(",");
      return [key, { ...baseEnv, ...(upstreams ? { UPSTREAMS: upstreams } : {}), ...service.env }] as const;
    }),
  );
  const envOf = (key: string) => envs.get(key) ?? baseEnv;
  const signer = await createTestSigner();
  const running = new Map<string, RunningService>();
  const addresses = new Map<string, string>();
  const pools = new Map<string, pg.Pool>();
  t.teardown(async () => {
    await Promise.all([...pools.values()].map((pool) => pool.end()));
    // Begun in reverse start order and run together: the teardown takes one stop's time, not one per stage.
    const keys = options.stages.flatMap((stage) => Object.keys(stage)).reverse();
    await Promise.all(keys.map((key) => running.get(key)?.stop()));
    await Promise.all(Object.values(names).map((name) => dropServiceDatabase(name)));
  });
  const service = (key: string) => {
    const instance = running.get(key);
    if (!instance) throw new Error(`the mesh runs no ${key} in-process`);
    return instance;
  };
  const mesh: TestMesh<K> = {
    signer,
    names: names as Record<K, string>,
    service,
    envOf,
    client(contract, key, ...interceptors) {
      // One transport per address the service has had: a restarted service is at another one.
      const transports = new Map<string, Transport>();
      const current = () => {
        const address = addresses.get(key);
        if (!address) throw new Error(`the mesh runs no ${key} in-process`);
        let transport = transports.get(address);
        if (!transport) transports.set(address, (transport = createGrpcTransport({ baseUrl: `http://${address}`, interceptors })));
        return transport;
      };
      return createClient(contract, { unary: (...args) => current().unary(...args), stream: (...args) => current().stream(...args) });
    },
    async sql(key, text, params = []) {
      let pool = pools.get(key);
      if (!pool) {
        pools.set(key, (pool = new pg.Pool({ connectionString: serviceDatabaseUrl(names[key] ?? key), max: 2 })));
        pool.on("error", () => undefined); // idle connections cut when a database is dropped at teardown
      }
      return (await pool.query(text, params)).rows;
    },
    async stop(key) {
      await service(key).stop();
      running.delete(key);
    },
    async restart(key) {
      const restarted = await start(key, names[key]!);
      running.set(key, restarted);
      addresses.set(key, restarted.address);
      await passingInConsul(names[key]!, { consulAddr: baseEnv.CONSUL_HTTP_ADDR });
      return restarted;
    },
    async another(key, env, teardown = (fn) => t.teardown(fn)) {
      const name = uniqueName(key);
      const instance = await start(key, name, env);
      teardown(async () => {
        await instance.stop();
        await dropServiceDatabase(name);
      });
      return instance;
    },
  };
  const verifier = options.verifier?.(mesh) ?? signer.verifier;
  function start(key: string, name: string, env: Record<string, string> = {}): Promise<RunningService> {
    const spec = services.get(key);
    if (!spec) throw new Error(`the mesh has no ${key} to start`);
    return spec.start(name, { ...envOf(key), ...env }, { verifier, serviceCredentials: { token: () => signer.token({ subject: key, service: true }) } });
  }
  for (const stage of options.stages) {
    // Every service that did start is stopped at teardown even when another one failed to (e.g. the
    // server out of connections): left running, its pool would meet the forced drop of its database.
    const keys = Object.keys(stage);
    const settled = await Promise.allSettled(keys.map((key) => start(key, names[key]!)));
    settled.forEach((result, i) => {
      if (result.status !== "fulfilled") return;
      running.set(keys[i]!, result.value);
      addresses.set(keys[i]!, result.value.address);
    });
    const failed = settled.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
  const called = [...new Set(calledKeys)].filter((key) => running.has(key));
  await Promise.all(called.map((key) => passingInConsul(names[key]!, { consulAddr: baseEnv.CONSUL_HTTP_ADDR })));
  return mesh;
}
