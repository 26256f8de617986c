// The token verifier a process gets from its configuration: a fixed JWKS URL when one is given,
// else identity found through Consul, else none. createService and the edge both use it.
import type { PlatformConfig } from "../config/platform-schema.ts";
import type { Logger } from "../logger.ts";
import { createTokenVerifier, type TokenVerifier } from "./token-verifier.ts";

export type VerifierConfig = Pick<
  PlatformConfig,
  "AUTH_JWKS_URL" | "AUTH_JWKS_DISCOVERY" | "AUTH_ISSUER" | "AUTH_AUDIENCE" | "IDENTITY_SERVICE_NAME" | "CONSUL_HTTP_ADDR"
>;

/** Whether this configuration verifies identity's tokens at all (a URL, or discovery through Consul). */
export function verifiesIdentityTokens(config: Pick<VerifierConfig, "AUTH_JWKS_URL" | "AUTH_JWKS_DISCOVERY">): boolean {
  return config.AUTH_JWKS_URL !== undefined || config.AUTH_JWKS_DISCOVERY;
}

/** The verifier of identity's tokens for `config`, or undefined when it verifies none. Call close() when done. */
export function tokenVerifierFromConfig(config: VerifierConfig, options: { logger?: Logger } = {}): TokenVerifier | undefined {
  const common = { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE, ...(options.logger ? { logger: options.logger } : {}) };
  if (config.AUTH_JWKS_URL) return createTokenVerifier({ jwksUrl: config.AUTH_JWKS_URL, ...common });
  if (config.AUTH_JWKS_DISCOVERY) {
    return createTokenVerifier({ discovery: { consulAddr: config.CONSUL_HTTP_ADDR, serviceName: config.IDENTITY_SERVICE_NAME }, ...common });
  }
  return undefined;
}
