// Service tokens (IssueServiceToken): a service of the mesh proves itself with its client secret and
// gets an access token with `svc: true` and `sub` = its name. Identity keeps only SHA-256 hashes of the
// secrets (IDENTITY_SERVICE_CLIENTS); in development without that list, any well-formed service name
// is accepted with the platform's development secret.
import { createHash, timingSafeEqual } from "node:crypto";
import { DEVELOPMENT_SERVICE_CLIENT_SECRET, UnauthenticatedError, type Logger, type ServiceCredentials } from "@bazaar/platform";
import type { KeyStore, SignedToken } from "./signing-keys.ts";

/** Service names as Consul and the contract have them: 1–63 of a–z, 0–9 and "-". */
export const SERVICE_NAME = /^[a-z0-9-]{1,63}$/;
/** Longer presented secrets are wrong without being hashed. */
const SECRET_MAX = 512;

/** Service name → SHA-256 of its client secret, or "development": every name, the development secret. */
export type ServiceClients = ReadonlyMap<string, Buffer> | "development";

export const secretHash = (secret: string): Buffer => createHash("sha256").update(secret, "utf8").digest();

/** Parses IDENTITY_SERVICE_CLIENTS ("name=sha256hex,…"); throws naming the first bad entry. */
export function parseServiceClients(value: string): Map<string, Buffer> {
  const clients = new Map<string, Buffer>();
  for (const entry of value.split(",").map((e) => e.trim()).filter(Boolean)) {
    const [name = "", hash = "", ...rest] = entry.split("=").map((part) => part.trim());
    if (!SERVICE_NAME.test(name)) throw new Error(`"${name.slice(0, 70)}" is not a service name (1–63 of a–z, 0–9 and -)`);
    if (rest.length > 0 || !/^[0-9a-fA-F]{64}$/.test(hash)) throw new Error(`the entry of ${name} must be ${name}=<64 hex digits of SHA-256>`);
    if (clients.has(name)) throw new Error(`${name} is listed twice`);
    clients.set(name, Buffer.from(hash, "hex"));
  }
  return clients;
}

export interface ServiceTokenIssuer {
  /** A token for `service` when `secret` is its client secret; else UnauthenticatedError (one answer for every failure). */
  issue(service: string, secret: string): Promise<SignedToken>;
}

export function createServiceTokenIssuer(options: { keyStore: KeyStore; clients: ServiceClients; logger?: Logger }): ServiceTokenIssuer {
  const { keyStore, clients } = options;
  const developmentHash = secretHash(DEVELOPMENT_SERVICE_CLIENT_SECRET);
  // Compared against for unknown services, so they take the same time as a wrong secret.
  const nobody = secretHash("\u0000 no such service \u0000");
  return {
    async issue(service, secret) {
      const expected = clients === "development" ? developmentHash : clients.get(service);
      const presented = secretHash(secret.length <= SECRET_MAX ? secret : "");
      const matches = timingSafeEqual(presented, expected ?? nobody);
      if (!matches || expected === undefined || secret.length === 0 || secret.length > SECRET_MAX) {
        options.logger?.warn({ service }, "service token refused: unknown service or wrong client secret");
        throw new UnauthenticatedError("unknown service or wrong client secret", { reason: "INVALID_CLIENT" });
      }
      return keyStore.signService(service);
    },
  };
}

/** Identity's own service token's subject: what the service-permission table grants identity's calls by. */
export const IDENTITY_SERVICE = "identity";

/**
 * Identity's own credentials for the calls it makes on its own authority (gathering a user's data):
 * signed here with its current key, no IssueServiceToken round trip to itself; reused until a minute
 * before it expires.
 */
export function ownServiceCredentials(keyStore: Pick<KeyStore, "signService">): ServiceCredentials {
  let current: SignedToken | undefined;
  return {
    async token() {
      if (!current || current.expiresAt.getTime() - Date.now() < 60_000) current = await keyStore.signService(IDENTITY_SERVICE);
      return current.token;
    },
  };
}
