// Verifies bearer access tokens against identity's JWKS (docs/architecture.md, "Auth"). Every service does this
// itself: the edge is not the only gate.
//
// The token contract (RFC 9068 JWT access tokens, signed with an asymmetric key listed in the JWKS):
//   header  alg  one of the allowed algorithms (default EdDSA, ES256; never "none" nor HMAC)
//           kid  the signing key's id in the JWKS
//           typ  "at+jwt" (an ID token or any other JWT is refused)
//   claims  iss    the issuer, e.g. "bazaar-identity"
//           aud    the audience, e.g. "bazaar" (a string or an array containing it)
//           sub    the user's id (UUIDv7), or for service tokens the calling service's name
//           exp    expiry (short-lived: minutes)
//           iat    issue time
//           jti    unique token id
//           roles  string array, e.g. ["customer"] or ["admin"]; missing means none
//           svc    true on service tokens (a service acting on its own behalf); absent on user tokens
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  jwtVerify,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWSAlgorithm,
  type JWTPayload,
} from "jose";
import { watchConsulService, type ConsulWatch } from "../clients/consul-watch.ts";
import { UnauthenticatedError, UnavailableError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Principal } from "../principal.ts";

/** The `typ` header of access tokens (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/** Identity found through Consul: its JWKS is fetched from a passing instance, whichever it is now. */
export interface JwksDiscovery {
  /** Consul HTTP API, host:port (CONSUL_HTTP_ADDR). */
  consulAddr: string;
  /** Identity's Consul name (IDENTITY_SERVICE_NAME). */
  serviceName: string;
  /** Path of the JWKS on an instance. Default "/.well-known/jwks.json". */
  path?: string;
  /** Consul ACL token. Default: CONSUL_HTTP_TOKEN (none when unset). */
  consulToken?: string;
}

export interface TokenVerifierOptions {
  /** Where identity publishes its JWKS. Exactly one of `jwksUrl`, `discovery` and `jwks`. */
  jwksUrl?: string | URL;
  /**
   * Identity's instances in Consul instead of a fixed URL: follows identity across restarts on new
   * ports and across several instances (the first that answers serves the keys).
   */
  discovery?: JwksDiscovery;
  /** A fixed key set instead of a URL (tests, or keys distributed as config). */
  jwks?: JSONWebKeySet;
  /** Expected `iss`. */
  issuer: string;
  /** Expected `aud`. */
  audience: string;
  /** Accepted `alg` values; asymmetric only. Default ["EdDSA", "ES256"]. */
  algorithms?: JWSAlgorithm[];
  /**
   * Floor between two JWKS fetches caused by unknown `kid`s or by failures, so forged tokens with
   * random kids cannot make us hammer identity. Default 10 000 ms.
   */
  minRefetchIntervalMs?: number;
  /** The JWKS is refreshed in the background this often, so removed keys stop verifying. Default 300 000 ms. */
  refreshIntervalMs?: number;
  /** JWKS request timeout. Default 5 000 ms. */
  fetchTimeoutMs?: number;
  /** Tolerated clock skew for `exp`. Default 5 s. */
  clockToleranceSeconds?: number;
  /** Background refresh failures are logged here. */
  logger?: Logger;
}

export interface TokenVerifier {
  /**
   * The principal a token proves. Throws UnauthenticatedError when the token does not verify (the
   * message says why, for the log), UnavailableError when the JWKS cannot be fetched.
   */
  verify(token: string): Promise<Principal>;
  /** Stops the Consul watch of a discovering verifier (nothing to do otherwise). Idempotent. */
  close?(): void;
}

const SYMMETRIC = /^(HS|none$)/i;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if ([options.jwksUrl, options.jwks, options.discovery].filter((source) => source !== undefined).length !== 1) {
    throw new TypeError("createTokenVerifier: give exactly one of jwksUrl, discovery and jwks");
  }
  if (!options.issuer || !options.audience) throw new TypeError("createTokenVerifier: issuer and audience are required");
  const algorithms = options.algorithms ?? ["EdDSA", "ES256"];
  if (algorithms.length === 0 || algorithms.some((alg) => SYMMETRIC.test(alg))) {
    // An HMAC algorithm next to public keys invites the key-confusion attack.
    throw new TypeError(`createTokenVerifier: algorithms must be asymmetric, got ${JSON.stringify(algorithms)}`);
  }
  const keys = options.jwks
    ? staticKeys(options.jwks)
    : options.discovery
      ? remoteKeys(discoveredJwks(options.discovery), options)
      : remoteKeys(fixedJwks(new URL(options.jwksUrl!)), options);
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  // Tokens verified already, by their exact text: inside the mesh every call of a service presents
  // the same service token, so its signature is checked once per token rather than once per call.
  // An entry ends when the token expires (at most CACHE_MS after it was checked) or the key set changes.
  const verified = new Map<string, { principal: Principal; until: number; keySet: number }>();

  return {
    async verify(token) {
      keys.refreshIfDue();
      const known = verified.get(token);
      if (known && Date.now() < known.until && known.keySet === keys.version()) return known.principal;
      if (known) verified.delete(token);
      const keySet = keys.version();
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms,
          issuer: options.issuer,
          audience: options.audience,
          typ: ACCESS_TOKEN_TYPE,
          clockTolerance,
          requiredClaims: ["sub", "exp", "iat", "jti"],
        }));
      } catch (error) {
        if (error instanceof UnavailableError) throw error;
        if (error instanceof errors.JWKSTimeout) throw new UnavailableError("JWKS request timed out", { cause: error });
        throw new UnauthenticatedError(`invalid token: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
          reason: "INVALID_TOKEN",
        });
      }
      const principal = Object.freeze(principalFrom(payload, token));
      if (keySet >= 0) {
        if (verified.size >= CACHE_ENTRIES) verified.delete(verified.keys().next().value!);
        verified.set(token, { principal, until: Math.min(Date.now() + CACHE_MS, (payload.exp ?? 0) * 1000), keySet });
      }
      return principal;
    },
    close: () => keys.close(),
  };
}

/** How long a verified token is taken on trust before its signature is checked again. */
const CACHE_MS = 60_000;
/** Most tokens remembered (the oldest goes first). */
const CACHE_ENTRIES = 10_000;

/** A key set for jwtVerify, with a version that changes whenever the keys may have changed (-1 while they are changing). */
type KeySet = Parameters<typeof jwtVerify>[1] & { version(): number; refreshIfDue(): void; close(): void };

/** Where the JWKS can be fetched right now: candidate URLs, tried in order until one answers. */
interface JwksSource {
  /** For logs and for jose (which needs a URL; our fetch uses the candidates instead). */
  readonly description: string;
  readonly placeholder: URL;
  candidates(signal: AbortSignal | undefined): Promise<string[]>;
  close(): void;
}

function fixedJwks(url: URL): JwksSource {
  return { description: url.href, placeholder: url, candidates: async () => [url.href], close: () => {} };
}

/**
 * The JWKS of whichever instances of identity Consul lists as passing, in random order (a dead one
 * still listed costs one refused connection, then the next is asked). The watch starts on first use.
 */
function discoveredJwks(discovery: JwksDiscovery): JwksSource {
  if (!discovery.consulAddr || !discovery.serviceName) throw new TypeError("createTokenVerifier: discovery needs consulAddr and serviceName");
  const path = discovery.path ?? "/.well-known/jwks.json";
  let watch: ConsulWatch | undefined;
  let closed = false;
  return {
    description: `${path} of Consul service "${discovery.serviceName}"`,
    placeholder: new URL(`http://${encodeURIComponent(discovery.serviceName)}.consul.invalid${path}`),
    async candidates(signal) {
      if (closed) throw new UnavailableError("JWKS unavailable: the verifier is closed");
      watch ??= watchConsulService({
        consulAddr: discovery.consulAddr,
        serviceName: discovery.serviceName,
        ...(discovery.consulToken ? { token: discovery.consulToken } : {}),
      });
      let instances;
      try {
        instances = await watch.ready(signal);
      } catch (error) {
        throw new UnavailableError(`JWKS unavailable: Consul has not answered for "${discovery.serviceName}" (${watch.lastError()?.message ?? String(error)})`, {
          cause: error,
        });
      }
      if (instances.length === 0) throw new UnavailableError(`JWKS unavailable: no passing instance of "${discovery.serviceName}" in Consul`);
      const urls = instances.map((instance) => `${instance.url}${path}`);
      for (let i = urls.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [urls[i], urls[j]] = [urls[j]!, urls[i]!];
      }
      return urls;
    },
    close() {
      closed = true;
      watch?.close();
    },
  };
}

function principalFrom(payload: JWTPayload, token: string): Principal {
  const { sub, roles = [], svc, iat, jti } = payload as JWTPayload & { roles?: unknown; svc?: unknown };
  const invalid = (what: string) => new UnauthenticatedError(`invalid token: ${what}`, { reason: "INVALID_TOKEN" });
  if (typeof sub !== "string" || sub === "") throw invalid('"sub" must be a non-empty string');
  if (!Array.isArray(roles) || roles.some((role) => typeof role !== "string")) throw invalid('"roles" must be an array of strings');
  if (svc !== undefined && typeof svc !== "boolean") throw invalid('"svc" must be a boolean');
  const issuedAtMs = typeof iat === "number" ? issuedAtMillis(iat, jti) : undefined;
  return {
    subject: sub,
    roles: Object.freeze([...(roles as string[])]),
    kind: svc ? "service" : "user",
    token,
    ...(typeof iat === "number" ? { issuedAt: iat, issuedAtMs } : {}),
  };
}

const uuidv7Pattern = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The issue time to the millisecond: identity's `jti` is a UUIDv7, whose first 48 bits are the
 * milliseconds it was made at — used when they fall in `iat`'s second. A token from another issuer, or
 * a jti of another shape, counts as issued at the start of its `iat` second: the cautious reading, so
 * a revocation within that second refuses it.
 */
function issuedAtMillis(iat: number, jti: unknown): number {
  const match = typeof jti === "string" ? uuidv7Pattern.exec(jti) : null;
  if (match) {
    const ms = Number.parseInt(match[1]! + match[2]!, 16);
    if (Math.floor(ms / 1000) === iat) return ms;
  }
  return iat * 1000;
}

function staticKeys(jwks: JSONWebKeySet) {
  if (!Array.isArray(jwks?.keys)) throw new TypeError("createTokenVerifier: jwks must be a JSON Web Key Set ({ keys: [...] })");
  for (const key of jwks.keys) {
    if (key.kty === "oct") throw new TypeError("createTokenVerifier: jwks must hold public keys only (found a symmetric key)");
    if ("d" in key) throw new TypeError("createTokenVerifier: jwks must hold public keys only (found a private key)");
  }
  return Object.assign(createLocalJWKSet(jwks), { version: () => 0, refreshIfDue: () => {}, close: () => {} }) as KeySet;
}

/**
 * jose's remote key set (cached; an unknown kid refetches, at most once per cooldown), with three
 * additions: a failed fetch also waits out the floor, fetch failures surface as UnavailableError (the
 * caller is not at fault), and the cache never expires on its own (a refresh that fails keeps the
 * keys we have) but is refreshed in the background every `refreshIntervalMs`.
 */
function remoteKeys(source: JwksSource, options: TokenVerifierOptions): KeySet {
  const floorMs = options.minRefetchIntervalMs ?? 10_000;
  const refreshMs = options.refreshIntervalMs ?? 300_000;
  let lastAttempt = -Infinity;
  let lastFailure: unknown;
  let lastSuccess = -Infinity;
  // Every fetched key set counts as new: tokens verified before it are checked again.
  let version = 0;

  const fetchOne = async (href: string, init: RequestInit): Promise<string> => {
    const response = await fetch(href, init);
    if (response.status !== 200) throw new Error(`JWKS fetch from ${href} answered HTTP ${response.status}`);
    const body = await response.text();
    const parsed = JSON.parse(body) as { keys?: unknown };
    if (!Array.isArray(parsed.keys)) throw new Error(`JWKS response from ${href} is not a JSON Web Key Set`);
    return body;
  };

  const gatedFetch: FetchImplementation = async (_href, init) => {
    const now = Date.now();
    if (lastFailure !== undefined && now - lastAttempt < floorMs) {
      throw new UnavailableError("JWKS unavailable (last fetch failed; waiting before the next)", { cause: lastFailure });
    }
    lastAttempt = now;
    try {
      let body: string | undefined;
      let failure: unknown;
      for (const href of await source.candidates(init.signal ?? undefined)) {
        try {
          body = await fetchOne(href, init as RequestInit);
          break;
        } catch (error) {
          failure = error;
          if (error instanceof Error && error.name === "TimeoutError") break;
        }
      }
      if (body === undefined) throw failure;
      lastFailure = undefined;
      lastSuccess = Date.now();
      version += 1;
      return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
    } catch (error) {
      lastFailure = error;
      if (error instanceof Error && error.name === "TimeoutError") throw error; // jose reports it as JWKSTimeout
      if (error instanceof UnavailableError) throw error;
      throw new UnavailableError(`JWKS unavailable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };

  const remote = createRemoteJWKSet(source.placeholder, {
    cooldownDuration: floorMs,
    cacheMaxAge: Infinity,
    timeoutDuration: options.fetchTimeoutMs ?? 5_000,
    [customFetch]: gatedFetch,
  });

  const refreshIfDue = () => {
    const now = Date.now();
    if (lastSuccess !== -Infinity && now - lastSuccess > refreshMs && now - lastAttempt >= floorMs && !remote.reloading) {
      remote.reload().catch((error: unknown) => options.logger?.warn({ err: error, jwks: source.description }, "JWKS refresh failed; keeping the keys we have"));
    }
  };
  const keys = (...args: Parameters<typeof remote>) => {
    refreshIfDue();
    return remote(...args);
  };
  // While a fetch is being applied the keys are in flux: nothing is trusted from the cache or added to it.
  return Object.assign(keys, { version: () => (remote.reloading ? -1 : version), refreshIfDue, close: () => source.close() }) as KeySet;
}
