// The identity service, declared: built from its config without listening, so tests start it on port 0.
import { createSealer, type Database, type ServiceCredentials, type ServiceDefinition, type TokenVerifier } from "@bazaar/platform";
import { PersonalDataService } from "@bazaar/contracts/bazaar/privacy/v1/personal_data_service_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { identityMigrations } from "../migrations/index.ts";
import type { IdentityConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { createSecretBox } from "./crypto.ts";
import { identityEntities } from "./entities.ts";
import { identityHandlers } from "./handlers.ts";
import { createLoginThrottle } from "./login-throttle.ts";
import { createPasswordResets } from "./password-resets.ts";
import { createPasswordHasher } from "./passwords.ts";
import { createServiceTokenIssuer, ownServiceCredentials } from "./service-tokens.ts";
import { createSessions } from "./sessions.ts";
import { createKeyStore, type KeyStore } from "./signing-keys.ts";

export interface IdentityOptions {
  config: IdentityConfig;
  /** Consul name (and database bazaar_<name>). Default "identity"; tests use unique names. */
  name?: string;
}

/** The service definition plus what createService needs besides it: the verifier of identity's own tokens. */
export interface IdentityServiceDefinition extends ServiceDefinition<Database> {
  /** Verifies access tokens against identity's own published keys; pass it as createService's `verifier`. */
  readonly verifier: TokenVerifier;
  /** Identity's own service token, signed in-process; pass it as createService's `serviceCredentials`. */
  readonly serviceCredentials: ServiceCredentials;
  readonly keyStore: KeyStore;
}

export function identity(options: IdentityOptions): IdentityServiceDefinition {
  const { config } = options;
  const secretBox = createSecretBox(config.IDENTITY_ENCRYPTION_KEY);
  const keyStore = createKeyStore({
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    accessTokenTtlSeconds: config.IDENTITY_ACCESS_TOKEN_TTL_SECONDS,
    rotationSeconds: config.IDENTITY_KEY_ROTATION_SECONDS,
    retentionGraceSeconds: config.IDENTITY_KEY_RETENTION_GRACE_SECONDS,
    secretBox,
  });
  return {
    name: options.name ?? "identity",
    version: "1.0.0",
    database: { entities: identityEntities, migrations: identityMigrations },
    publishes: eventDomains.publishes,
    verifier: keyStore.verifier,
    serviceCredentials: ownServiceCredentials(keyStore),
    keyStore,
    async setup(runtime) {
      const { database } = runtime;
      keyStore.attach(database);
      const emailTokenSealer = await createSealer(config.IDENTITY_EMAIL_TOKEN_SEALING_KEY);
      const resets = createPasswordResets({ database, sealer: emailTokenSealer, logger: runtime.logger, pollMs: config.IDENTITY_RESET_QUEUE_POLL_MS });
      const handlers = identityHandlers({
        database,
        config,
        keyStore,
        sessions: createSessions({ keyStore, refreshTokenTtlSeconds: config.IDENTITY_REFRESH_TOKEN_TTL_SECONDS, maxAgeSeconds: config.IDENTITY_SESSION_MAX_AGE_SECONDS }),
        throttle: createLoginThrottle({
          firstDelaySeconds: config.IDENTITY_LOGIN_FIRST_DELAY_SECONDS,
          maxDelaySeconds: config.IDENTITY_LOGIN_MAX_DELAY_SECONDS,
          windowSeconds: config.IDENTITY_LOGIN_FAILURE_WINDOW_SECONDS,
          freeFailuresPerAccount: config.IDENTITY_LOGIN_FREE_FAILURES_PER_ACCOUNT,
          freeFailuresPerAddress: config.IDENTITY_LOGIN_FREE_FAILURES_PER_ADDRESS,
        }),
        hasher: createPasswordHasher({ memoryKib: config.IDENTITY_ARGON2_MEMORY_KIB, timeCost: config.IDENTITY_ARGON2_TIME_COST }),
        secretBox,
        serviceTokens: createServiceTokenIssuer({
          keyStore,
          clients: config.IDENTITY_SERVICE_CLIENTS ?? (config.BAZAAR_ENV === "development" ? "development" : new Map()),
          logger: runtime.logger,
        }),
        emailTokenSealer,
        resets,
        personalDataHolder: (holder) => runtime.serviceClientFor(PersonalDataService, holder),
        logger: runtime.logger,
      });
      if (!config.IDENTITY_SERVICE_CLIENTS && config.BAZAAR_ENV !== "development") {
        runtime.logger.warn("IDENTITY_SERVICE_CLIENTS is unset: no service gets a service token");
      }
      return {
        routes: (router) => router.service(IdentityService, handlers),
        background: () => [resets],
        documents: {
          "/.well-known/jwks.json": async () => ({
            contentType: "application/jwk-set+json",
            body: JSON.stringify(await keyStore.jwks()),
            // Short: a rotation must reach verifiers well within a token's lifetime.
            cacheControl: "public, max-age=60",
          }),
        },
      };
    },
  };
}
