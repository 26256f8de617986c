// `@bazaar/platform/testing`: what every service's integration tests need, once. Real PostgreSQL,
// NATS and Consul come from `npm test`'s environment; tokens are signed with keys made here, in the
// shape identity issues (see auth/token-verifier.ts).
import { randomBytes, randomUUID } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import pg from "pg";
import { createTokenVerifier, type TokenVerifier } from "./auth/token-verifier.ts";

/** The environment a test service runs with: local development, silent logs, a short grace period. */
export const testEnv: NodeJS.ProcessEnv = {
  ...process.env,
  BAZAAR_ENV: "development",
  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
  SHUTDOWN_GRACE_MS: "3000",
};

/** `<prefix>-<8 hex>`: unique Consul names, databases (bazaar_<prefix>_<hex>) and durables per test. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * Polls `probe` every `intervalMs` until it returns something truthy, and returns that; fails naming
 * `what` after `timeoutMs`.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** URL of the database createService gives the service named `name` (bazaar_<name, - → _>). */
export function serviceDatabaseUrl(name: string, env: NodeJS.ProcessEnv = testEnv): string {
  const url = new URL(env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/bazaar_${name.replaceAll("-", "_")}`;
  return url.toString();
}

/** Drops the database of the service named `name`, closing its connections. */
export async function dropServiceDatabase(name: string, env: NodeJS.ProcessEnv = testEnv): Promise<void> {
  const admin = new pg.Client({ connectionString: env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(`bazaar_${name.replaceAll("-", "_")}`)} with (force)`);
  } finally {
    await admin.end();
  }
}

export interface TestSigner {
  readonly publicJwk: JWK;
  /** A verifier of this signer's tokens, for createService's `verifier` option. */
  readonly verifier: TokenVerifier;
  /** An access token for `subject` with `roles` (default: a new user, customer), or a service token. */
  token(options?: { subject?: string; roles?: string[]; service?: boolean; expiresIn?: string }): Promise<string>;
}

/** An EdDSA key pair standing in for identity's: tokens it signs verify like identity's do. */
export async function createTestSigner(): Promise<TestSigner> {
  const kid = uniqueName("test-key");
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return {
    publicJwk,
    verifier: createTokenVerifier({ jwks: { keys: [publicJwk] }, issuer: "bazaar-identity", audience: "bazaar" }),
    token: ({ subject = randomUUID(), roles = ["customer"], service = false, expiresIn = "10m" } = {}) =>
      new SignJWT({ roles, ...(service ? { svc: true } : {}) })
        .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
        .setIssuer("bazaar-identity")
        .setAudience("bazaar")
        .setSubject(subject)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .setJti(randomUUID())
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
