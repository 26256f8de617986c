// @bazaar/platform: the runtime every Bazaar service uses. Most services need only createService /
// runService, loadConfig, the domain errors, the auth helpers, publish and onEvent.

// A service, whole
export {
  createService,
  runService,
  type BackgroundTask,
  type ConsumerDefinition,
  type DatabaseDeclaration,
  type RunningService,
  type ServiceDefinition,
  type ServiceOptions,
  type ServiceRuntime,
  type ServiceSetup,
} from "./service.ts";
export { CART_TOKEN_HEADER } from "./headers.ts";

export { drainBatches, startPeriodic, startSweep, type Periodic, type PeriodicOptions, type Sweep, type SweepOptions } from "./periodic.ts";

// Config
export { ConfigError, configMode, defaultsByMode, loadConfig, secret, type ConfigMode, type ConfigProblem } from "./config.ts";
export {
  authConfig,
  databaseConfig,
  DEVELOPMENT_SERVICE_CLIENT_SECRET,
  natsConfig,
  platformConfigSchema,
  serviceConfig,
  serviceCredentialsConfig,
  type PlatformConfig,
} from "./config/platform-schema.ts";
export { watchConsulKv, type ConsulKvWatch, type ConsulKvWatchOptions } from "./config/consul-kv.ts";

// Errors
export * from "./errors.ts";
export { errorsInterceptor, toConnectError, violations, type ErrorsInterceptorOptions, type Violations } from "./errors-interceptor.ts";
export { nulTextInterceptor, nulTextViolations } from "./nul-text-interceptor.ts";
export { checkFieldRules, fieldRulesInterceptor, hasFieldRules } from "./field-rules-interceptor.ts";
export { decodePageToken, encodePageToken, type DecodePageTokenOptions } from "./page-tokens.ts";
export {
  checkCountryCode,
  checkCurrencyCode,
  checkEmail,
  checkId,
  checkPageSize,
  checkPaymentMethod,
  checkPhone,
  checkPostalAddress,
  checkPostalAddressField,
  checkSku,
  checkText,
  checkUpdateMask,
  checkUuid,
  EMAIL_MAX_LENGTH,
  hasControlCharacters,
  isCountryCode,
  isCurrencyCode,
  isEmail,
  isPhone,
  isSku,
  isUuid,
  postalAddressPaths,
  type PageSizeRule,
  type PostalAddressPath,
  type TextRule,
} from "./field-rules.ts";

// Auth
export type { Principal } from "./principal.ts";
export { ACCESS_TOKEN_TYPE, createTokenVerifier, type JwksDiscovery, type TokenVerifier, type TokenVerifierOptions } from "./auth/token-verifier.ts";
export { tokenVerifierFromConfig, verifiesIdentityTokens, type VerifierConfig } from "./auth/verifier-from-config.ts";
export { authInterceptor, principalKey, type AuthInterceptorOptions } from "./auth/auth-interceptor.ts";
export { ADMIN_ROLE, currentPrincipal, isServiceOrRole, requireOwner, requirePrincipal, requireRole, requireServiceOrRole, requireUser } from "./auth/require.ts";
export { createServiceCredentials, type ServiceCredentials, type ServiceCredentialsOptions } from "./auth/service-credentials.ts";
export {
  procedureName,
  SERVICE_PERMISSIONS,
  servicePermissionCheck,
  servicePermissionsInterceptor,
  type ServicePermissionCheck,
  type ServicePermissionTable,
} from "./auth/service-permissions.ts";
export { credentialsInterceptor } from "./auth/credentials-interceptor.ts";
export { identityCredentialsFor, identityServiceCredentials, type IdentityServiceCredentialsOptions } from "./auth/identity-service-credentials.ts";

// Calls: context, clients through discovery
export { currentCall, remainingMs, runInCallContext, type CallContext } from "./call-context.ts";
export { callContextInterceptor } from "./call-context-interceptor.ts";
export { clientFor, clientTransport, closeAllClients, closeClient, consulServiceName, type ClientForOptions } from "./clients/client-for.ts";
export { parseUpstreams, upstreamName, type Upstreams } from "./clients/upstreams.ts";
export { dependencyUnavailable, failureOf, type CallFailure } from "./downstream-errors.ts";
export { createClientTransport, type ClientTarget, type ClientTransport, type ClientTransportOptions } from "./clients/client-transport.ts";
export type { RetryOptions } from "./clients/retry.ts";
export type { EndpointSnapshot } from "./clients/balancer.ts";

// Serving, health, registration, lifecycle
export { createRpcServer, type RequestFront, type RpcServer, type RpcServerOptions } from "./serve/rpc-server.ts";
export { serve, type Listener, type RegisterOptions, type ServeOptions, type Serving } from "./serve/serve.ts";
export { isGrpcRequest, sendErrorResponse, type ErrorResponseOptions, type NodeServerRequest, type NodeServerResponse } from "./serve/error-response.ts";
export { protocolOptions, refuseMalformedBinary } from "./serve/protocol-options.ts";
export type { HttpDocument, WebhookHandler } from "./serve/http-routes.ts";
export { createHealth, createHealthService, type Health, type HealthOptions, type ReadinessCheck, type ServingStatus } from "./serve/health.ts";
export { createFront, type Front, type FrontOptions } from "./serve/front.ts";
export { reflectionServices, registerReflection } from "./serve/reflection.ts";
export { registerInConsul, type ConsulRegistration, type ConsulRegistrationOptions } from "./registration.ts";
export { createLifecycle, shutdownPhases, type Lifecycle, type LifecycleOptions, type ShutdownPhase, type ShutdownStep } from "./lifecycle.ts";

// Data
export { isDatabaseConnectionLost, retryLostReadsInterceptor } from "./data/connection-errors.ts";
export { createDatabase, DatabaseConfigError, withDatabase, type Database, type DatabaseOptions, type EntityManager, type MigrationEntry } from "./data/database.ts";
export { asDate, isForeignKeyViolation, isUniqueViolation, pgArray, placeholders, postgresError, query, type Row } from "./data/sql.ts";
export { clockTimestamp, sql, sqlText, typedQueries, type TablesOf } from "./data/kysely.ts";
export { keysetPage, readPage, type Keyset, type Page, type PageCursor } from "./data/keyset-page.ts";

// Events
export { outboxInsert, publish, type PublishedEvent } from "./events/outbox.ts";
export { createRelay, type Relay, type RelayOptions } from "./events/relay.ts";
export { ensureStreams, type EnsureStreamsOptions, type StreamOutcome } from "./events/streams.ts";
export { consume, dlqHeaders, onEvent, type Consumer, type ConsumeOptions, type EventHandler, type EventHandlerFn, type HandlerContext } from "./events/consumer.ts";
export { anonymisedAddress, personalDataErasure, type ErasePersonalData } from "./personal-data-erasure.ts";
export { personalDataJson, servePersonalDataExport, withChildren, type GatherPersonalData } from "./personal-data-export.ts";
export { natsServers, type NatsServers } from "./events/nats-servers.ts";
export { natsAuthorization, natsPermissions, type EventDomains, type NatsPermissions, type NatsUser } from "./events/nats-permissions.ts";
export { dlqStream, dlqSubject, domainOf, EventContractError, eventTypeHeader, streamName, subjectFor } from "./events/subjects.ts";

// Telemetry, logs, metrics
export { sampleRatioFrom, startTelemetry, type Telemetry, type TelemetryOptions } from "./telemetry/start-telemetry.ts";
export { clientTracingInterceptor, serverTracingInterceptor } from "./telemetry/tracing-interceptors.ts";
export { traceIdOf } from "./telemetry/traceparent.ts";
export { tracedFetch } from "./telemetry/traced-fetch.ts";
export { startRequestSpan, type RequestSpan, type RequestSpanOptions } from "./telemetry/request-span.ts";
export { redMetricsInterceptor, RPC_DURATION_BUCKETS, type RedMetricsOptions } from "./telemetry/red-metrics.ts";
export { createLogger, type Logger, type LoggerOptions } from "./logger.ts";
export { createMetricsRegistry, type Registry } from "./metrics.ts";

// Secrets sealed to another service's key (tokens that must not travel in clear on the bus)
export {
  createOpener,
  createSealer,
  DEVELOPMENT_SEALING_PRIVATE_KEY,
  DEVELOPMENT_SEALING_PUBLIC_KEY,
  sealingPrivateKeySchema,
  sealingPublicKeySchema,
  type Opener,
  type Sealer,
} from "./sealed-secrets.ts";
