// Signing keys: EdDSA (Ed25519) key pairs generated here, the private half stored sealed with
// AES-256-GCM. One key signs at a time (a unique index says so); a rotated key stays in the JWKS until
// the last access token it signed has expired, so rotation logs nobody out.
import { exportJWK, generateKeyPair, importJWK, SignJWT, decodeProtectedHeader, type CryptoKey, type JWK } from "jose";
import { uuidv7 } from "uuidv7";
import { ACCESS_TOKEN_TYPE, createTokenVerifier, query, sql, UnauthenticatedError, type Database, type EntityManager, type Principal, type TokenVerifier } from "@bazaar/platform";
import type { SecretBox } from "./crypto.ts";
import { tables } from "./users.ts";

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
}

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey;
  createdAt: Date;
}

export interface AccessTokenClaims {
  userId: string;
  roles: readonly string[];
  sessionId: string;
}

export interface SignedToken {
  token: string;
  expiresAt: Date;
  jti: string;
}

export interface KeyStoreOptions {
  issuer: string;
  audience: string;
  /** Access-token lifetime, seconds. */
  accessTokenTtlSeconds: number;
  /** A key older than this is rotated on the next signature. */
  rotationSeconds: number;
  /** Extra time a retired key stays published past the token lifetime (clock skew). */
  retentionGraceSeconds: number;
  secretBox: SecretBox;
  /** Another instance may rotate: the published keys are reloaded at least this often. Default 30 000 ms. */
  reloadIntervalMs?: number;
}

export interface KeyStore {
  /** Signs an access token with the current key; rotates first when the key is older than allowed. */
  sign(claims: AccessTokenClaims): Promise<SignedToken>;
  /** Signs a service token (`svc: true`, `sub` = the service's name, no roles), otherwise like `sign`. */
  signService(service: string): Promise<SignedToken>;
  /** Starts a new key now; the old one stays published until its tokens have expired. */
  rotate(): Promise<string>;
  /** The published public keys (the JWKS). */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** Verifies identity's own access tokens against the published keys (the platform's verifier). */
  readonly verifier: TokenVerifier;
  /** Binds the store to the service's database once it exists. */
  attach(database: Database): void;
}

export function createKeyStore(options: KeyStoreOptions): KeyStore {
  let database: Database | undefined;
  let active: ActiveKey | undefined;
  let published: PublicJwk[] = [];
  // kid → when it leaves the JWKS (retired keys only).
  let publishUntil = new Map<string, number>();
  let verifier: TokenVerifier | undefined;
  let loadedAt = 0;
  let loading: Promise<void> | undefined;
  const reloadMs = options.reloadIntervalMs ?? 30_000;

  const db = () => {
    if (!database) throw new Error("key store used before the database was attached");
    return database;
  };

  async function load(): Promise<void> {
    const rows = await tables(db().em())
      .selectFrom("signing_keys")
      .select(["kid", "public_jwk", "private_key_sealed", "created_at", "retired_at", "publish_until"])
      .where((eb) => eb.or([eb("retired_at", "is", null), eb("publish_until", ">", sql<Date>`now()`)]))
      .orderBy("created_at", "desc")
      .execute();
    published = rows.map((row) => row.public_jwk);
    publishUntil = new Map(rows.flatMap((row) => (row.publish_until ? [[row.kid, row.publish_until.getTime()] as const] : [])));
    const current = rows.find((row) => row.retired_at === null);
    if (current && current.kid !== active?.kid) {
      const jwk = JSON.parse(options.secretBox.open(current.private_key_sealed)) as JWK;
      active = { kid: current.kid, privateKey: (await importJWK(jwk, "EdDSA")) as CryptoKey, createdAt: current.created_at };
    } else if (!current) {
      active = undefined;
    }
    rebuildVerifier();
    loadedAt = Date.now();
  }

  function rebuildVerifier() {
    verifier = published.length
      ? createTokenVerifier({ jwks: { keys: published.map((k) => ({ ...k })) }, issuer: options.issuer, audience: options.audience, algorithms: ["EdDSA"] })
      : undefined;
  }

  /** Drops retired keys whose last tokens have expired, without waiting for the next reload. */
  function pruneExpired() {
    const now = Date.now();
    const kept = published.filter((k) => (publishUntil.get(k.kid) ?? Infinity) > now);
    if (kept.length !== published.length) {
      published = kept;
      rebuildVerifier();
    }
  }

  function reload(): Promise<void> {
    loading ??= load().finally(() => (loading = undefined));
    return loading;
  }

  /** The current key's kid, with the table locked against other instances' rotations until commit. */
  async function lockedCurrentKid(em: EntityManager): Promise<{ kid: string } | undefined> {
    // Raw SQL: LOCK TABLE has no query-builder form.
    await query(em, "lock table signing_keys in share row exclusive mode");
    return tables(em).selectFrom("signing_keys").select("kid").where("retired_at", "is", null).executeTakeFirst();
  }

  async function insertKey(em: EntityManager, kid: string, publicJwk: PublicJwk, sealed: string): Promise<void> {
    await tables(em).insertInto("signing_keys").values({ kid, alg: "EdDSA", public_jwk: publicJwk, private_key_sealed: sealed }).execute();
  }

  async function fresh(): Promise<void> {
    if (Date.now() - loadedAt > reloadMs) await reload();
  }

  /** Retires the current key (if `retireKid`, only when it is still the current one) and inserts a new one. */
  async function rotateFrom(retireKid: string | undefined): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const kid = uuidv7();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } as PublicJwk;
    const sealed = options.secretBox.seal(JSON.stringify(await exportJWK(privateKey)));
    const keepSeconds = options.accessTokenTtlSeconds + options.retentionGraceSeconds;
    await db().transaction(async (em) => {
      const current = await lockedCurrentKid(em);
      // Another instance rotated already: its new key is the one to use.
      if (retireKid !== undefined && current && current.kid !== retireKid) return;
      await tables(em)
        .updateTable("signing_keys")
        .set({ retired_at: sql<Date>`now()`, publish_until: sql<Date>`now() + make_interval(secs => ${keepSeconds})` })
        .where("retired_at", "is", null)
        .execute();
      await insertKey(em, kid, publicJwk, sealed);
    });
    await reload();
    return active?.kid ?? kid;
  }

  async function currentKey(): Promise<ActiveKey> {
    await fresh();
    if (!active) {
      // The very first key: only when none signs yet (the unique index settles races between instances).
      await db().transaction(async (em) => {
        if (await lockedCurrentKid(em)) return;
        const { publicKey, privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
        const kid = uuidv7();
        const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" } as PublicJwk;
        await insertKey(em, kid, publicJwk, options.secretBox.seal(JSON.stringify(await exportJWK(privateKey))));
      });
      await reload();
    } else if (Date.now() - active.createdAt.getTime() > options.rotationSeconds * 1000) {
      await rotateFrom(active.kid);
    }
    if (!active) throw new Error("no signing key");
    return active;
  }

  /** The access-token contract of token-verifier.ts: typ at+jwt, iss, aud, sub, iat, exp, jti, plus `claims`. */
  async function signAccessToken(subject: string, claims: Record<string, unknown>): Promise<SignedToken> {
    const key = await currentKey();
    // The jti is a UUIDv7: its first 48 bits are the issue time in milliseconds, which services use to
    // tell a token issued before a revocation from one issued after it within the same second; `iat`
    // is taken from the same instant so the two always agree.
    const jti = uuidv7();
    const now = Math.floor(Number.parseInt(jti.slice(0, 8) + jti.slice(9, 13), 16) / 1000);
    const exp = now + options.accessTokenTtlSeconds;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setSubject(subject)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, expiresAt: new Date(exp * 1000), jti };
  }

  const ownVerifier: TokenVerifier = {
    async verify(token: string): Promise<Principal> {
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch (error) {
        throw new UnauthenticatedError("invalid token: malformed", { cause: error, reason: "INVALID_TOKEN" });
      }
      await fresh();
      pruneExpired();
      // A key another instance has just made: reload once (at most every second, so forged kids cannot hammer the database).
      if (kid && !published.some((k) => k.kid === kid) && Date.now() - loadedAt > 1000) await reload();
      if (!verifier) throw new UnauthenticatedError("invalid token: no signing keys yet", { reason: "INVALID_TOKEN" });
      return verifier.verify(token);
    },
  };

  return {
    verifier: ownVerifier,
    attach(value) {
      database = value;
    },
    sign: (claims) => signAccessToken(claims.userId, { roles: [...claims.roles], sid: claims.sessionId }),
    signService: (service) => signAccessToken(service, { svc: true }),
    async rotate() {
      await fresh();
      return rotateFrom(undefined);
    },
    async jwks() {
      await fresh();
      pruneExpired();
      if (published.length === 0) await currentKey();
      return { keys: published.map((k) => ({ ...k })) };
    },
  };
}
