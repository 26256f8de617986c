// Service tokens from identity (IssueServiceToken, OAuth 2 client credentials in our contract): what
// createService uses when a service has a SERVICE_CLIENT_SECRET. The token is cached and renewed
// ahead of its expiry by one request at a time, shared by every caller.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { runInCallContext } from "../call-context.ts";
import { clientFor, closeClient } from "../clients/client-for.ts";
import type { PlatformConfig } from "../config/platform-schema.ts";
import { UnavailableError } from "../errors.ts";
import { clientTracingInterceptor } from "../telemetry/tracing-interceptors.ts";
import type { ServiceCredentials } from "./service-credentials.ts";
import { verifiesIdentityTokens } from "./verifier-from-config.ts";

export type IdentityClient = Client<typeof IdentityService>;

export interface IdentityServiceCredentialsOptions {
  /** The calling service's name: the token's `sub`. */
  service: string;
  /** Its client secret (SERVICE_CLIENT_SECRET). */
  clientSecret: string;
  /**
   * How identity is reached: a client, or a function making one on first use (so a service starts
   * while identity is still starting). It must not carry the credentials interceptor (no recursion).
   * Exactly one of `client` and `transport`.
   */
  client?: IdentityClient | (() => IdentityClient);
  /** A transport to identity instead of a client. */
  transport?: Transport;
  /** Timeout of one IssueServiceToken call. Default 5 000 ms. */
  timeoutMs?: number;
  /** After a failed request, callers get that failure (or the token still valid) this long before the next try. Default 1 000 ms. */
  retryAfterFailureMs?: number;
}

/** Renew when this share of the lifetime is left (at most `maxRenewBeforeMs`). */
const renewShare = 0.25;
const maxRenewBeforeMs = 60_000;
/** A token with less than this left is not handed out; callers wait for the new one. */
const minValidityMs = 5_000;

export function identityServiceCredentials(options: IdentityServiceCredentialsOptions): ServiceCredentials {
  if (!options.service) throw new TypeError("identityServiceCredentials: service is required");
  if (!options.clientSecret) throw new TypeError("identityServiceCredentials: clientSecret is required");
  if ((options.client === undefined) === (options.transport === undefined)) {
    throw new TypeError("identityServiceCredentials: give exactly one of client and transport");
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 1_000;
  let client: IdentityClient | undefined;
  const identity = () =>
    (client ??= options.transport
      ? createClient(IdentityService, options.transport)
      : typeof options.client === "function"
        ? options.client()
        : options.client!);

  let current: { token: string; renewAt: number; usableUntil: number } | undefined;
  let pending: Promise<string> | undefined;
  let failure: { error: unknown; until: number } | undefined;

  async function issue(): Promise<string> {
    let response;
    try {
      response = await identity().issueServiceToken({ service: options.service, clientSecret: options.clientSecret }, { timeoutMs });
    } catch (error) {
      const reason = error instanceof ConnectError ? `${Code[error.code]}: ${error.rawMessage}` : String(error);
      throw new UnavailableError(`no service token from identity for ${options.service} (${reason})`, { cause: error });
    }
    if (!response.accessToken || !response.expireTime) throw new UnavailableError("identity answered IssueServiceToken without a token");
    const now = Date.now();
    const lifetimeMs = Math.max(0, timestampDate(response.expireTime).getTime() - now);
    const usableUntil = now + lifetimeMs - minValidityMs;
    current = {
      token: response.accessToken,
      renewAt: Math.min(usableUntil, now + lifetimeMs - Math.min(maxRenewBeforeMs, lifetimeMs * renewShare)),
      usableUntil,
    };
    return response.accessToken;
  }

  function renew(): Promise<string> {
    // One request at a time, detached from the call that happened to trigger it: its deadline or
    // cancellation must not fail the renewal every other caller waits on.
    pending ??= runInCallContext({ signal: new AbortController().signal }, issue)
      .then(
        (token) => ((failure = undefined), token),
        (error: unknown) => {
          failure = { error, until: Date.now() + retryAfterFailureMs };
          throw error;
        },
      )
      .finally(() => (pending = undefined));
    return pending;
  }

  return {
    async token() {
      const now = Date.now();
      if (current && now < current.renewAt) return current.token;
      const waiting = failure !== undefined && now < failure.until;
      if (current && now < current.usableUntil) {
        // Still good for a while: renew in the background; only an expiring token makes callers wait.
        if (!waiting) renew().catch(() => {});
        return current.token;
      }
      if (waiting) throw failure!.error;
      return renew();
    },
  };
}

/**
 * createService's default credentials for the service named `service`: tokens from identity (found in
 * Consul as IDENTITY_SERVICE_NAME) with SERVICE_CLIENT_SECRET, when the service has a secret, is not
 * identity itself, and verifies tokens against identity's JWKS (AUTH_JWKS_URL or AUTH_JWKS_DISCOVERY; a
 * mesh without either, such as tests with their own signer, would not accept identity's tokens anyway). The client is made
 * on first use, with tracing only — no credentials interceptor — and `close` lets it go.
 */
export function identityCredentialsFor(
  service: string,
  config: Pick<PlatformConfig, "SERVICE_CLIENT_SECRET" | "IDENTITY_SERVICE_NAME" | "AUTH_JWKS_URL" | "AUTH_JWKS_DISCOVERY" | "CONSUL_HTTP_ADDR">,
): { credentials: ServiceCredentials; close(): void } | undefined {
  const clientSecret = config.SERVICE_CLIENT_SECRET;
  if (!clientSecret || !verifiesIdentityTokens(config) || service === config.IDENTITY_SERVICE_NAME) return undefined;
  let client: IdentityClient | undefined;
  const issued = identityServiceCredentials({
    service,
    clientSecret,
    client: () =>
      (client ??= clientFor(IdentityService, {
        consulAddr: config.CONSUL_HTTP_ADDR,
        serviceName: config.IDENTITY_SERVICE_NAME,
        interceptors: [clientTracingInterceptor()],
      })),
  });
  // token() runs inside the client's interceptors, where a domain error would reach the caller as
  // `unknown`: give the transport a ConnectError that says `unavailable`.
  const credentials: ServiceCredentials = {
    token: () =>
      issued.token().catch((error: unknown) => {
        throw new ConnectError(error instanceof Error ? error.message : String(error), Code.Unavailable, undefined, undefined, error);
      }),
  };
  return { credentials, close: () => client && closeClient(client) };
}
