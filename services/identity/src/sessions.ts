// Sessions (signed-in devices) and their refresh tokens. A session is one token family: each refresh
// rotates the token; presenting a rotated token again means it leaked, so the whole family is revoked.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { PermissionDeniedError, sql, UnauthenticatedError, type Database, type EntityManager } from "@bazaar/platform";
import { TokenPairSchema, type TokenPair } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { decodeJwt } from "jose";
import { uuidv7 } from "uuidv7";
import { randomToken, tokenHash } from "./crypto.ts";
import type { KeyStore } from "./signing-keys.ts";
import { tables } from "./users.ts";

export interface SessionsOptions {
  keyStore: KeyStore;
  /** Sliding: each refresh moves the expiry this far ahead… */
  refreshTokenTtlSeconds: number;
  /** …but never past this age of the session (absolute lifetime from sign-in). */
  maxAgeSeconds: number;
}

export interface DeviceInfo {
  userAgent: string;
  ipAddress: string;
}

export interface Sessions {
  /** Starts a session for `userId` (inside the caller's transaction) and issues its first tokens. */
  start(em: EntityManager, userId: string, roles: readonly string[], device: DeviceInfo): Promise<TokenPair>;
  /** Rotates `refreshToken`; reuse of a rotated one revokes its session. */
  refresh(database: Database, refreshToken: string): Promise<TokenPair>;
  /** Revokes the session of `refreshToken`, if any. */
  logout(em: EntityManager, refreshToken: string): Promise<void>;
  /** Revokes every active session of the user except `keepSessionId`. */
  revokeAll(em: EntityManager, userId: string, reason: string, keepSessionId?: string): Promise<number>;
}

const REFRESH_PREFIX = "rt_";

/** The session id (`sid`) of the caller's access token, if any. */
export function callerSessionId(token: string): string | undefined {
  try {
    const sid = decodeJwt(token).sid;
    return typeof sid === "string" ? sid : undefined;
  } catch {
    return undefined;
  }
}

const now = sql<Date>`now()`;

/** Revokes the sessions the caller's WHERE picks that are not revoked yet. */
export const revokeSessions = (em: EntityManager, reason: string) =>
  tables(em).updateTable("sessions").set({ revoked_at: now, revoked_reason: reason }).where("revoked_at", "is", null);

export function createSessions(options: SessionsOptions): Sessions {
  const { keyStore } = options;

  async function issue(em: EntityManager, sessionId: string, userId: string, roles: readonly string[]): Promise<TokenPair> {
    const refreshToken = REFRESH_PREFIX + randomToken();
    await tables(em).insertInto("refresh_tokens").values({ token_hash: tokenHash(refreshToken), session_id: sessionId }).execute();
    const session = await tables(em)
      .updateTable("sessions")
      .set({
        last_used_at: now,
        expires_at: sql<Date>`least(now() + make_interval(secs => ${options.refreshTokenTtlSeconds}), created_at + make_interval(secs => ${options.maxAgeSeconds}))`,
      })
      .where("id", "=", sessionId)
      .returning("expires_at")
      .executeTakeFirstOrThrow();
    const access = await keyStore.sign({ userId, roles, sessionId });
    return create(TokenPairSchema, {
      accessToken: access.token,
      accessTokenExpireTime: timestampFromDate(access.expiresAt),
      refreshToken,
      refreshTokenExpireTime: timestampFromDate(session.expires_at),
      sessionId,
      userId,
    });
  }

  return {
    async start(em, userId, roles, device) {
      const sessionId = uuidv7();
      await tables(em)
        .insertInto("sessions")
        .values({ id: sessionId, user_id: userId, user_agent: device.userAgent.slice(0, 256), ip_address: device.ipAddress.slice(0, 64), expires_at: now })
        .execute();
      return issue(em, sessionId, userId, roles);
    },

    async refresh(database, refreshToken) {
      const invalid = () => new UnauthenticatedError("refresh_token: is invalid, expired or revoked", { reason: "INVALID_REFRESH_TOKEN" });
      if (!refreshToken.startsWith(REFRESH_PREFIX) || refreshToken.length > 100) throw invalid();
      const hash = tokenHash(refreshToken);
      const outcome = await database.transaction(async (em) => {
        // Claiming the token is one statement: of two concurrent refreshes with it, exactly one wins.
        const claimed = await tables(em)
          .updateTable("refresh_tokens")
          .set({ rotated_at: now })
          .where("token_hash", "=", hash)
          .where("rotated_at", "is", null)
          .returning("session_id")
          .executeTakeFirst();
        const sessionId =
          claimed?.session_id ?? (await tables(em).selectFrom("refresh_tokens").select("session_id").where("token_hash", "=", hash).executeTakeFirst())?.session_id;
        if (!sessionId) return { kind: "unknown" } as const;
        const session = await tables(em)
          .selectFrom("sessions as s")
          .innerJoin("users as u", "u.id", "s.user_id")
          .select(["s.user_id", "u.roles", "u.disabled_at", "u.deleted_at", sql<boolean>`(s.revoked_at is null and s.expires_at > now() and s.created_at + make_interval(secs => ${options.maxAgeSeconds}) > now())`.as("live")])
          .where("s.id", "=", sessionId)
          .forUpdate(["s"])
          .executeTakeFirst();
        // A genuine refresh token of a disabled account (DisableUser revoked its session too) is told
        // why, as Login tells it: the caller is known, the account state refuses it (PERMISSION_DENIED).
        if (session?.disabled_at && !session.deleted_at) return { kind: "disabled" } as const;
        if (!claimed) return { kind: "reused", sessionId } as const;
        if (!session || session.deleted_at || !session.live) return { kind: "unknown" } as const;
        return { kind: "ok", tokens: await issue(em, sessionId, session.user_id, session.roles) } as const;
      });
      switch (outcome.kind) {
        case "ok":
          return outcome.tokens;
        case "reused":
          // Its own transaction: the revocation must stick although the call fails.
          await database.transaction((em) => revokeSessions(em, "refresh token reused").where("id", "=", outcome.sessionId).execute());
          throw new UnauthenticatedError("refresh_token: was already used; the session is revoked", { reason: "REFRESH_TOKEN_REUSED" });
        case "disabled":
          throw new PermissionDeniedError("the account is disabled", { reason: "ACCOUNT_DISABLED" });
        default:
          throw invalid();
      }
    },

    async logout(em, refreshToken) {
      if (!refreshToken.startsWith(REFRESH_PREFIX) || refreshToken.length > 100) return;
      await revokeSessions(em, "logout")
        .where("id", "=", (eb) => eb.selectFrom("refresh_tokens").select("session_id").where("token_hash", "=", tokenHash(refreshToken)))
        .execute();
    },

    async revokeAll(em, userId, reason, keepSessionId) {
      const rows = await revokeSessions(em, reason)
        .where("user_id", "=", userId)
        .$if(keepSessionId !== undefined, (q) => q.where("id", "<>", keepSessionId!))
        .returning("id")
        .execute();
      return rows.length;
    },
  };
}
