import type { DescService } from "@bufbuild/protobuf";
import type { Client, ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connect, type NatsConnection } from "nats";
import { setTimeout as sleep } from "node:timers/promises";
import { uuidv7 } from "uuidv7";
import { authInterceptor } from "./auth/auth-interceptor.ts";
import { servicePermissionsInterceptor, type ServicePermissionTable } from "./auth/service-permissions.ts";
import { credentialsInterceptor } from "./auth/credentials-interceptor.ts";
import { identityCredentialsFor } from "./auth/identity-service-credentials.ts";
import type { ServiceCredentials } from "./auth/service-credentials.ts";
import { startRevocationFeed } from "./auth/revocation-feed.ts";
import { createRevocations, refusingRevoked } from "./auth/revocations.ts";
import type { TokenVerifier } from "./auth/token-verifier.ts";
import { tokenVerifierFromConfig } from "./auth/verifier-from-config.ts";
import { callContextInterceptor } from "./call-context-interceptor.ts";
import { clientFor, closeClient, type ClientForOptions } from "./clients/client-for.ts";
import { upstreamName, type Upstreams } from "./clients/upstreams.ts";
import type { PlatformConfig } from "./config/platform-schema.ts";
import { retryLostReadsInterceptor } from "./data/connection-errors.ts";
import { createDatabase, serviceDatabaseName, type Database, type DatabaseOptions } from "./data/database.ts";
import { MIGRATE_COMMAND, migrateService } from "./migrate.ts";
import { natsServers } from "./events/nats-servers.ts";
import { downstreamErrorsInterceptor } from "./downstream-errors.ts";
import { errorsInterceptor } from "./errors-interceptor.ts";
import { fieldRulesInterceptor } from "./field-rules-interceptor.ts";
import { nulTextInterceptor } from "./nul-text-interceptor.ts";
import { servePersonalDataExport, type GatherPersonalData } from "./personal-data-export.ts";
import { consume, type Consumer, type ConsumeOptions } from "./events/consumer.ts";
import { createRelay, type Relay } from "./events/relay.ts";
import { natsConnectedGauge } from "./events/event-metrics.ts";
import { ensureStreams } from "./events/streams.ts";
import { streamName } from "./events/subjects.ts";
import { createLifecycle, type Lifecycle } from "./lifecycle.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetricsRegistry, type Registry } from "./metrics.ts";
import { createHealth, type Health } from "./serve/health.ts";
import type { HttpDocument, WebhookHandler } from "./serve/http-routes.ts";
import { createRpcServer } from "./serve/rpc-server.ts";
import { serve } from "./serve/serve.ts";
import { redMetricsInterceptor } from "./telemetry/red-metrics.ts";
import type { Telemetry } from "./telemetry/start-telemetry.ts";
import { clientTracingInterceptor, serverTracingInterceptor } from "./telemetry/tracing-interceptors.ts";

// Callers' discovery watches hear of a deregistration within milliseconds; calls already routed here
// get this long to land before the listener closes.
const deregisterSettleMs = 500;

/**
 * What the runtime hands a service's own code: everything cross-cutting, ready to use. `Data` is the
 * type of `database`: `Database` in the setup of a definition that declares one (see ServiceDefinition).
 */
export interface ServiceRuntime<Data extends Database | undefined = Database | undefined> {
  readonly name: string;
  /** Unique per process: the Consul service id. */
  readonly instanceId: string;
  readonly config: PlatformConfig;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly health: Health;
  /** The service's own database: there exactly when the definition declares one. */
  readonly database: Data;
  /** The NATS connection, when the service publishes or consumes events. */
  readonly nats: NatsConnection | undefined;
  /**
   * A typed client of another service, found through Consul, with tracing, client metrics and
   * credentials (the caller's token inside a user's call, else this service's own). One per service.
   * The Consul name is the package's (bazaar.catalog.v1 → catalog), unless ServiceOptions.upstreams
   * renames it (see upstreamName).
   */
  clientFor<T extends DescService>(service: T): Client<T>;
  /**
   * Like clientFor, but every call carries this service's own token, even inside a user's call: for
   * steps taken on the service's authority (a checkout reserving stock, authorising a payment).
   * `at` names the service to call where a contract is served by several (PersonalDataService by
   * "order", "catalog", …): the default Consul name, renamed by upstreams like any other.
   */
  serviceClientFor<T extends DescService>(service: T, at?: string): Client<T>;
}

/** A durable consumer of one domain's stream; the runtime supplies NATS, the database, logs and metrics. */
export interface ConsumerDefinition
  extends Omit<ConsumeOptions, "nats" | "database" | "stream" | "logger" | "registry"> {
  /** The publishing domain, e.g. "order" (reads the stream BAZAAR_ORDER); one of the definition's `consumes`. */
  domain: string;
}

/** Work a service runs beside its RPCs (sweepers, schedulers). */
export interface BackgroundTask {
  /** Stops the work and resolves once what was under way has finished. */
  stop(): Promise<void> | void;
}

/**
 * What a service's setup builds, once, from its runtime: everything it serves and runs. What the
 * parts share (order's saga, a key store) is a local of setup, never a variable of the definition.
 */
export interface ServiceSetup {
  /** Registers the service's RPCs, before the server listens. */
  routes(router: ConnectRouter): void;
  /** Documents served with GET beside the RPCs, by path (e.g. "/.well-known/jwks.json"). */
  documents?: Record<string, HttpDocument>;
  /** Webhooks served with POST beside the RPCs, by path (e.g. "/webhooks/stripe"); bodies up to 1 MiB. */
  webhooks?: Record<string, WebhookHandler>;
  /**
   * What the service holds about a person, for the user's download of their data: served as
   * bazaar.privacy.v1.PersonalDataService (section named by the definition's identity), which only
   * identity may call. Every service holding personal data gives it (see personal-data-export.ts).
   */
  personalData?: GatherPersonalData;
  /** Durable consumers, started once the server listens; each reads a domain listed in `consumes`. */
  consumers?: ConsumerDefinition[];
  /** Starts the background work once the server listens (and consumers run); stopped while draining. */
  background?(): BackgroundTask[];
}

/** The service's PostgreSQL data: entities and migrations of `bazaar_<name>`. */
export type DatabaseDeclaration = Pick<DatabaseOptions, "entities" | "migrations">;

/**
 * A service, declared: its name, data and events, and the setup that builds its RPCs, consumers and
 * background work from the runtime. Write `ServiceDefinition<Database>` for a service with a database
 * (its setup's `runtime.database` is then a Database), `ServiceDefinition<undefined>` for one without.
 */
export type ServiceDefinition<Data extends Database | undefined = Database | undefined> = {
  /** Consul name and label on logs and metrics, e.g. "catalog". Its database is `bazaar_<name>`. */
  name: string;
  /**
   * Who the service is towards the others: the subject of its service token, by which SERVICE_PERMISSIONS
   * grants it calls. Default: its name. A service under another name (tests run "cart-1a2b…") keeps its
   * identity, e.g. "cart".
   */
  identity?: string;
  /** Registered as the Consul tag `version=<version>`. */
  version?: string;
  /** Event domains this service publishes (their streams are ensured at start), usually its own. */
  publishes?: readonly string[];
  /** Event domains this service consumes (their streams are ensured at start; events need a database). */
  consumes?: readonly string[];
  /** Called once at start, after the database, NATS and clients are ready and before the server listens. */
  setup(runtime: ServiceRuntime<Data>): ServiceSetup | Promise<ServiceSetup>;
} & (Data extends Database ? { database: DatabaseDeclaration } : { database?: undefined });

export interface ServiceOptions {
  config: PlatformConfig;
  /** Default: JSON logs to stdout at LOG_LEVEL. */
  logger?: Logger;
  /**
   * Default: a verifier of identity's JWKS at AUTH_JWKS_URL, else found through Consul (AUTH_JWKS_DISCOVERY);
   * without either, bearer tokens are not accepted at all.
   */
  verifier?: TokenVerifier;
  /**
   * This service's own credentials for calls it makes on its own behalf (event handlers, sagas).
   * Default: tokens from identity with SERVICE_CLIENT_SECRET when identity's tokens are verified (see
   * identityCredentialsFor); otherwise none.
   */
  serviceCredentials?: ServiceCredentials;
  /** Signals that shut the service down and end the process (default none: the embedder calls stop()). */
  signals?: NodeJS.Signals[];
  /** Consul names of the services this one calls, where not the default (see upstreamName). Default: config.UPSTREAMS. */
  upstreams?: Upstreams;
  /** Which service may call which method with its own token. Default: the mesh's SERVICE_PERMISSIONS. */
  servicePermissions?: ServicePermissionTable;
}

export interface RunningService<Data extends Database | undefined = Database | undefined> {
  readonly runtime: ServiceRuntime<Data>;
  readonly port: number;
  /** host:port as registered in Consul. */
  readonly address: string;
  /** The ordered, graceful shutdown (health, Consul, drain, flush, close). Resolves true when clean. */
  stop(reason?: string): Promise<boolean>;
  readonly lifecycle: Lifecycle;
}

/**
 * Builds and starts a service: database (created and migrated), NATS streams and outbox relay, the
 * one-port server (gRPC, gRPC-Web, Connect, health, reflection, metrics) with tracing, RED metrics,
 * error mapping, call context and auth, durable consumers, and registration in Consul — and the
 * lifecycle that takes it all down in order. A failure during start undoes what had started.
 */
export async function createService<Data extends Database | undefined>(
  definition: ServiceDefinition<Data>,
  options: ServiceOptions,
): Promise<RunningService<Data>> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ service: definition.name, level: config.LOG_LEVEL });
  const lifecycle = createLifecycle({ logger, graceMs: config.SHUTDOWN_GRACE_MS, signals: options.signals ?? [] });
  try {
    return await start(definition, options, logger, lifecycle);
  } catch (error) {
    await lifecycle.shutdown("failed start");
    lifecycle.dispose();
    throw error;
  }
}

async function start<Data extends Database | undefined>(
  definition: ServiceDefinition<Data>,
  options: ServiceOptions,
  logger: Logger,
  lifecycle: Lifecycle,
): Promise<RunningService<Data>> {
  const { config } = options;
  // Without credentials given: this service's own token from identity, when it has a client secret.
  const fromIdentity = options.serviceCredentials ? undefined : identityCredentialsFor(definition.identity ?? definition.name, config);
  if (fromIdentity) lifecycle.onShutdown("close", "identity client", () => fromIdentity.close());
  const serviceCredentials = options.serviceCredentials ?? fromIdentity?.credentials;
  const instanceId = `${definition.name}-${uuidv7()}`;
  const registry = createMetricsRegistry({ service: definition.name });
  const consumes = definition.consumes ?? [];
  const usesEvents = (definition.publishes?.length ?? 0) > 0 || consumes.length > 0;

  let database: Database | undefined;
  if (definition.database) {
    const opened = await createDatabase({
      url: config.DATABASE_URL,
      dbName: serviceDatabaseName(definition.name),
      ...definition.database,
      events: usesEvents,
      migrateOnStart: config.MIGRATE_ON_START,
      ownRole: config.DATABASE_OWN_ROLE,
      poolSize: config.DB_POOL_SIZE,
      logger,
    });
    lifecycle.onShutdown("close", "database", () => opened.close());
    database = opened;
  }

  let nats: NatsConnection | undefined;
  // Readiness follows the connection: false from a disconnect until the client has reconnected.
  let natsConnected = false;
  let relay: Relay | undefined;
  const streamRetention = { maxAgeMs: config.EVENTS_RETENTION_HOURS * 3600_000, deadLetterMaxAgeMs: config.EVENTS_DLQ_RETENTION_HOURS * 3600_000, replicas: config.EVENTS_STREAM_REPLICAS };
  if (usesEvents) {
    if (!database) throw new TypeError(`${definition.name}: events need a database (outbox and inbox live in it)`);
    // The relay and consumers outlive NATS outages: the client reconnects forever.
    nats = await connect({ ...natsServers(config.NATS_URL), name: instanceId, maxReconnectAttempts: -1 });
    natsConnected = true;
    const connectedGauge = natsConnectedGauge(registry);
    connectedGauge.set(1);
    void (async () => {
      for await (const status of nats.status()) {
        if (status.type === "disconnect") natsConnected = false;
        else if (status.type === "reconnect") natsConnected = true;
        connectedGauge.set(natsConnected ? 1 : 0);
      }
    })();
    lifecycle.onShutdown("close", "nats", () => nats!.drain());
    // A consumer may start before the publishing service ever has: the streams it reads are ensured too.
    await ensureStreams(await nats.jetstreamManager(), [...new Set([...(definition.publishes ?? []), ...consumes])], streamRetention);
    if (definition.publishes?.length) {
      relay = createRelay({ database, nats, logger, registry });
      lifecycle.onShutdown("flush", "outbox relay", async () => {
        await relay!.flush().catch((error: unknown) => logger.warn({ err: error }, "relay flush incomplete"));
        await relay!.stop();
      });
    }
  }

  // Readiness is about serving RPCs: the outbox buffers events while NATS is away (the relay waits,
  // consumers pause), so NATS is a non-critical check — reported in health.degraded(), the logs and
  // bazaar_events_nats_connected — and never takes the service out of Consul.
  const health = createHealth({
    logger,
    checks: database ? { database: () => database.isConnected() } : {},
    nonCritical: nats ? { nats: () => natsConnected && !nats.isClosed() } : {},
  });
  lifecycle.onShutdown("health", "not serving", () => health.shutdown());

  const ownVerifier = options.verifier ? undefined : tokenVerifierFromConfig(config, { logger });
  if (ownVerifier) lifecycle.onShutdown("close", "token verifier", () => ownVerifier.close?.());
  const tokenVerifier = options.verifier ?? ownVerifier;
  if (!tokenVerifier) logger.warn("no AUTH_JWKS_URL and AUTH_JWKS_DISCOVERY off: bearer tokens are not accepted; every call is anonymous");
  // Disabled and deleted users lose access within seconds, not when their tokens expire: identity's
  // events feed a revocation list checked after every verification.
  let verifier = tokenVerifier;
  if (tokenVerifier) {
    const lookbackMs = config.AUTH_REVOCATION_LOOKBACK_SECONDS * 1000;
    const revocations = createRevocations({ retainMs: lookbackMs });
    verifier = refusingRevoked(tokenVerifier, revocations);
    // A service without events of its own still needs NATS for this; it does not wait for it to start.
    let feedNats: NatsConnection | Promise<NatsConnection> | undefined = nats;
    if (!feedNats) {
      let closing = false;
      const own = connect({ ...natsServers(config.NATS_URL), name: `${instanceId}-revocations`, maxReconnectAttempts: -1, waitOnFirstConnect: true });
      own.then(
        (nc) => void (closing && nc.close()),
        () => {},
      );
      lifecycle.onShutdown("close", "nats (revocations)", () => {
        closing = true;
        // Not awaited while NATS never answered: nothing to close yet (the line above closes it later).
        void own.then((nc) => nc.close(), () => {});
      });
      feedNats = own;
    }
    const feed = startRevocationFeed({ nats: feedNats, revocations, lookbackMs, retention: streamRetention, logger });
    lifecycle.onShutdown("drain", "revocation feed", () => feed.stop());
    // A restarted service knows the recent revocations before it serves (unless NATS is away).
    const until = Date.now() + 3_000;
    while (!feed.caughtUp() && Date.now() < until) await sleep(25);
  }

  const clientInterceptors = (asService: boolean): Interceptor[] => [
    downstreamErrorsInterceptor(),
    clientTracingInterceptor(),
    redMetricsInterceptor(registry, { side: "client" }),
    credentialsInterceptor(serviceCredentials, { asService }),
  ];
  const clients = new Map<string, Client<DescService>>();
  lifecycle.onShutdown("close", "clients", () => clients.forEach((client) => closeClient(client)));
  const upstreams = options.upstreams ?? config.UPSTREAMS ?? {};
  function cachedClient<T extends DescService>(service: T, asService: boolean, at?: string): Client<T> {
    const serviceName = at === undefined ? upstreamName(service, upstreams) : (upstreams[at] ?? at);
    const key = `${service.typeName}@${serviceName}${asService ? "#service" : ""}`;
    let client = clients.get(key);
    if (!client) {
      const clientOptions: ClientForOptions = { consulAddr: config.CONSUL_HTTP_ADDR, serviceName, interceptors: clientInterceptors(asService) };
      client = clientFor(service, clientOptions) as Client<DescService>;
      clients.set(key, client);
    }
    return client as unknown as Client<T>;
  }

  // The definition's type ties its setup's runtime to whether it declared a database, as built here.
  const runtime = {
    name: definition.name,
    instanceId,
    config,
    logger,
    registry,
    health,
    database,
    nats,
    clientFor: (service) => cachedClient(service, false),
    serviceClientFor: (service, at) => cachedClient(service, true, at),
  } as ServiceRuntime<Data>;
  const setup = await definition.setup(runtime);
  const consumerDefinitions = setup.consumers ?? [];
  for (const { domain } of consumerDefinitions) {
    if (!consumes.includes(domain)) throw new TypeError(`${definition.name}: a consumer reads "${domain}", which the definition's consumes does not list`);
  }

  // Outermost first: the trace and metrics see everything, errors are mapped before they are
  // counted, the call context exists before auth stores the principal in it.
  const serverInterceptors: Interceptor[] = [
    serverTracingInterceptor(),
    redMetricsInterceptor(registry),
    errorsInterceptor({ logger }),
    callContextInterceptor(),
    ...(verifier ? [authInterceptor(verifier, { logger }), servicePermissionsInterceptor(options.servicePermissions)] : []),
    // Text PostgreSQL cannot store is refused before any handler sees it.
    nulTextInterceptor(),
    // Field rules the contract states as protovalidate annotations, every violation at once.
    fieldRulesInterceptor(),
    // A read that lost its database connection runs once more on a fresh one.
    ...(database ? [retryLostReadsInterceptor()] : []),
  ];
  const { personalData } = setup;
  const server = createRpcServer({
    routes: personalData
      ? (router) => {
          setup.routes(router);
          servePersonalDataExport(router, definition.identity ?? definition.name, personalData);
        }
      : setup.routes,
    documents: setup.documents,
    webhooks: setup.webhooks,
    interceptors: serverInterceptors,
    registry,
    health,
    logger,
    host: config.SERVICE_HOST,
    port: config.PORT,
  });
  const serving = await serve({ server, lifecycle, config, logger });
  const { port, address } = serving;

  const consumers: Consumer[] = [];
  lifecycle.onShutdown("drain", "consumers", () => Promise.all(consumers.map((c) => c.stop())).then(() => undefined));
  for (const consumer of consumerDefinitions) {
    const { domain, ...rest } = consumer;
    consumers.push(
      await consume({ startAt: config.EVENTS_NEW_CONSUMER_START, ...rest, stream: streamName(domain), nats: nats!, database: database!, logger, registry }),
    );
  }

  await health.refresh();
  const tasks: BackgroundTask[] = [];
  lifecycle.onShutdown("drain", "background tasks", () => Promise.all(tasks.map((task) => task.stop())).then(() => undefined));
  tasks.push(...(setup.background?.() ?? []));

  await serving.register({
    name: definition.name,
    id: instanceId,
    tags: definition.version ? [`version=${definition.version}`] : [],
    settleMs: deregisterSettleMs,
  });
  logger.info({ port, instanceId, address }, `${definition.name} serving`);

  return {
    runtime,
    port,
    address,
    lifecycle,
    stop: (reason = "stop") => lifecycle.shutdown(reason),
  };
}

/**
 * A service's main: createService with SIGTERM/SIGINT handling (the process exits once the shutdown
 * has run) and telemetry flushed last; a failed start is logged and exits with 1. Run with the argument
 * `migrate` (`node … src/main.ts migrate`, production's migration Job) it only applies the service's
 * migrations (migrateService) and exits: 0 when done, 1 when they failed.
 */
export async function runService<Data extends Database | undefined>(
  definition: ServiceDefinition<Data>,
  options: Omit<ServiceOptions, "signals"> & { telemetry?: Telemetry },
): Promise<RunningService<Data>> {
  const logger = options.logger ?? createLogger({ service: definition.name, level: options.config.LOG_LEVEL });
  if (process.argv[2] === MIGRATE_COMMAND) {
    // The migration Job: apply the migrations as the configured role, then exit (0 done, 1 failed).
    try {
      const applied = await migrateService(definition, { config: options.config, logger });
      logger.info({ migrations: applied }, `${definition.name}: ${applied.length} migration(s) applied`);
      await options.telemetry?.shutdown().catch(() => {});
      process.exit(0);
    } catch (error) {
      logger.fatal({ err: error }, `${definition.name} failed to migrate`);
      await options.telemetry?.shutdown().catch(() => {});
      process.exit(1);
    }
  }
  try {
    const service = await createService(definition, { ...options, logger, signals: ["SIGTERM", "SIGINT"] });
    if (options.telemetry) service.lifecycle.onShutdown("close", "telemetry", () => options.telemetry!.shutdown());
    return service;
  } catch (error) {
    logger.fatal({ err: error }, `${definition.name} failed to start`);
    await options.telemetry?.shutdown().catch(() => {});
    process.exit(1);
  }
}
