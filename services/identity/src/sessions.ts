// Sessions (signed-in devices) and their refresh tokens. A session is one token family: each refresh
// rotates the token; presenting a rotated token again means it leaked, so the whole family is revoked.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { PermissionDeniedError, UnauthenticatedError, type Database, type EntityManager } from "@bazaar/platform";
import { TokenPairSchema, type TokenPair } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { decodeJwt } from "jose";
import { uuidv7 } from "uuidv7";
import { randomToken, tokenHash } from "./crypto.ts";
import type { KeyStore } from "./signing-keys.ts";

export interface SessionsOptions {
  keyStore: KeyStore;
  refreshTokenTtlSeconds: number;
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

export function createSessions(options: SessionsOptions): Sessions {
  const { keyStore } = options;

  async function issue(em: EntityManager, sessionId: string, userId: string, roles: readonly string[]): Promise<TokenPair> {
    const refreshToken = REFRESH_PREFIX + randomToken();
    await em.execute("insert into refresh_tokens (token_hash, session_id) values (?, ?)", [tokenHash(refreshToken), sessionId], "run");
    const [session] = await em.execute<Array<{ expires_at: Date }>>(
      "update sessions set last_used_at = now(), expires_at = now() + make_interval(secs => ?) where id = ? returning expires_at",
      [options.refreshTokenTtlSeconds, sessionId],
    );
    const access = await keyStore.sign({ userId, roles, sessionId });
    return create(TokenPairSchema, {
      accessToken: access.token,
      accessTokenExpireTime: timestampFromDate(access.expiresAt),
      refreshToken,
      refreshTokenExpireTime: timestampFromDate(new Date(session!.expires_at)),
      sessionId,
      userId,
    });
  }

  return {
    async start(em, userId, roles, device) {
      const sessionId = uuidv7();
      await em.execute("insert into sessions (id, user_id, user_agent, ip_address, expires_at) values (?, ?, ?, ?, now())", [
        sessionId,
        userId,
        device.userAgent.slice(0, 256),
        device.ipAddress.slice(0, 64),
      ], "run");
      return issue(em, sessionId, userId, roles);
    },

    async refresh(database, refreshToken) {
      const invalid = () => new UnauthenticatedError("refresh_token: is invalid, expired or revoked", { reason: "INVALID_REFRESH_TOKEN" });
      if (!refreshToken.startsWith(REFRESH_PREFIX) || refreshToken.length > 100) throw invalid();
      const hash = tokenHash(refreshToken);
      const outcome = await database.transaction(async (em) => {
        // Claiming the token is one statement: of two concurrent refreshes with it, exactly one wins.
        const [claimed] = await em.execute<Array<{ session_id: string }>>(
          "update refresh_tokens set rotated_at = now() where token_hash = ? and rotated_at is null returning session_id",
          [hash],
        );
        const sessionId = claimed?.session_id ??
          (await em.execute<Array<{ session_id: string }>>("select session_id from refresh_tokens where token_hash = ?", [hash]))[0]?.session_id;
        if (!sessionId) return { kind: "unknown" } as const;
        const [session] = await em.execute<Array<{ user_id: string; roles: string[]; disabled_at: Date | null; deleted_at: Date | null; live: boolean }>>(
          `select s.user_id, u.roles, u.disabled_at, u.deleted_at, (s.revoked_at is null and s.expires_at > now()) as live
             from sessions s join users u on u.id = s.user_id where s.id = ? for update of s`,
          [sessionId],
        );
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
          await database.transaction((em) =>
            em.execute("update sessions set revoked_at = now(), revoked_reason = 'refresh token reused' where id = ? and revoked_at is null", [outcome.sessionId], "run"),
          );
          throw new UnauthenticatedError("refresh_token: was already used; the session is revoked", { reason: "REFRESH_TOKEN_REUSED" });
        case "disabled":
          throw new PermissionDeniedError("the account is disabled", { reason: "ACCOUNT_DISABLED" });
        default:
          throw invalid();
      }
    },

    async logout(em, refreshToken) {
      if (!refreshToken.startsWith(REFRESH_PREFIX) || refreshToken.length > 100) return;
      await em.execute(
        `update sessions set revoked_at = now(), revoked_reason = 'logout'
          where revoked_at is null and id = (select session_id from refresh_tokens where token_hash = ?)`,
        [tokenHash(refreshToken)],
        "run",
      );
    },

    async revokeAll(em, userId, reason, keepSessionId) {
      const rows = await em.execute<Array<{ id: string }>>(
        "update sessions set revoked_at = now(), revoked_reason = ? where user_id = ? and revoked_at is null and id <> ? returning id",
        [reason, userId, keepSessionId ?? "00000000-0000-0000-0000-000000000000"],
      );
      return rows.length;
    },
  };
}
