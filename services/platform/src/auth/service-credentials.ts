// Service tokens: what a service presents when it calls another on its own behalf (event handlers,
// saga steps). Same contract as user access tokens (see token-verifier.ts) with `svc: true` and
// `sub` = the service's name, signed with a key whose public half is in the JWKS the callee trusts.
import type { KeyObject } from "node:crypto";
import { importJWK, SignJWT, type CryptoKey, type JWK, type JWSAlgorithm } from "jose";
import { uuidv7 } from "uuidv7";
import { ACCESS_TOKEN_TYPE } from "./token-verifier.ts";

export interface ServiceCredentialsOptions {
  /** The calling service's name: the token's `sub`. */
  service: string;
  /** Private signing key: a WebCrypto CryptoKey, a Node KeyObject or a private JWK. */
  privateKey: CryptoKey | KeyObject | JWK;
  /** Id of the key in the JWKS (`kid` header). */
  kid: string;
  issuer: string;
  audience: string;
  /** Token lifetime. Default 300 s; a new token is made when less than a quarter of it (at most 60 s) is left. */
  ttlSeconds?: number;
  /** Roles carried by the token. Default none. */
  roles?: string[];
  /** Signing algorithm. Default: EdDSA for Ed25519 keys, ES256 for P-256 keys. */
  alg?: JWSAlgorithm;
}

export interface ServiceCredentials {
  /** A valid service token: cached, renewed before it expires. */
  token(): Promise<string>;
}

export function createServiceCredentials(options: ServiceCredentialsOptions): ServiceCredentials {
  if (!options.service) throw new TypeError("createServiceCredentials: service is required");
  if (!options.kid) throw new TypeError("createServiceCredentials: kid is required");
  const ttl = options.ttlSeconds ?? 300;
  if (!Number.isInteger(ttl) || ttl < 2) throw new TypeError("createServiceCredentials: ttlSeconds must be an integer ≥ 2");
  const renewBeforeMs = Math.min(60, ttl / 4) * 1000;
  const alg = options.alg ?? algorithmOf(options.privateKey);
  const key = isJwk(options.privateKey) ? importJWK(options.privateKey, alg) : Promise.resolve(options.privateKey);
  const roles = [...(options.roles ?? [])];

  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function sign(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ roles, svc: true })
      .setProtectedHeader({ alg, kid: options.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setSubject(options.service)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .setJti(uuidv7())
      .sign(await key);
    current = { token, renewAt: now * 1000 + ttl * 1000 - renewBeforeMs };
    return token;
  }

  return {
    token() {
      if (current && Date.now() < current.renewAt) return Promise.resolve(current.token);
      // Concurrent callers share one signing.
      pending ??= sign().finally(() => (pending = undefined));
      return pending;
    },
  };
}

function isJwk(key: unknown): key is JWK {
  return typeof key === "object" && key !== null && "kty" in key;
}

function algorithmOf(key: CryptoKey | KeyObject | JWK): JWSAlgorithm {
  if (isJwk(key)) {
    if (key.alg) return key.alg as JWSAlgorithm;
    if (key.kty === "OKP" && key.crv === "Ed25519") return "EdDSA";
    if (key.kty === "EC" && key.crv === "P-256") return "ES256";
  } else if ("asymmetricKeyType" in key) {
    if (key.asymmetricKeyType === "ed25519") return "EdDSA";
    if (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return "ES256";
  } else if ("algorithm" in key) {
    const algorithm = key.algorithm as { name: string; namedCurve?: string };
    if (algorithm.name === "Ed25519") return "EdDSA";
    if (algorithm.name === "ECDSA" && algorithm.namedCurve === "P-256") return "ES256";
  }
  throw new TypeError("createServiceCredentials: cannot tell the signing algorithm from the key; pass `alg`");
}
