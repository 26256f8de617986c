// Sessions (signed-in devices): refreshing and ending one by its refresh token, and listing and revoking
// a user's sessions (the owner or an admin).
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { checkUuid, NotFoundError, sql, violations, type Database } from "@bazaar/platform";
import { SessionSchema, type IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { callerSessionId, revokeSessions, type Sessions } from "./sessions.ts";
import { loadReachableUser, requireSelfOrAdmin, tables } from "./users.ts";
import { TOKEN_MAX } from "./validation.ts";

export interface SessionHandlerDeps {
  database: Database;
  sessions: Sessions;
}

export function sessionHandlers(
  deps: SessionHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "refreshToken" | "logout" | "listSessions" | "revokeSession"> {
  const { database, sessions } = deps;
  return {
    async refreshToken(req) {
      const v = violations();
      v.check(req.refreshToken.length > 0, "refresh_token", "is required");
      v.check(req.refreshToken.length <= TOKEN_MAX, "refresh_token", `must be at most ${TOKEN_MAX} characters`);
      v.throwIfAny();
      return { tokens: await sessions.refresh(database, req.refreshToken) };
    },

    async logout(req) {
      const v = violations();
      v.check(req.refreshToken.length > 0, "refresh_token", "is required");
      v.check(req.refreshToken.length <= TOKEN_MAX, "refresh_token", `must be at most ${TOKEN_MAX} characters`);
      v.throwIfAny();
      await database.transaction((em) => sessions.logout(em, req.refreshToken));
      return {};
    },

    async listSessions(req) {
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      v.throwIfAny();
      const em = database.em();
      const principal = requireSelfOrAdmin(req.userId);
      await loadReachableUser(em, req.userId);
      const current = callerSessionId(principal.token);
      const rows = await tables(em)
        .selectFrom("sessions")
        .select(["id", "user_id", "created_at", "last_used_at", "user_agent", "ip_address"])
        .where("user_id", "=", req.userId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", sql<Date>`now()`)
        .orderBy("created_at", "desc")
        .limit(100)
        .execute();
      return {
        sessions: rows.map((row) =>
          create(SessionSchema, {
            id: row.id,
            userId: row.user_id,
            createTime: timestampFromDate(row.created_at),
            lastUsedTime: timestampFromDate(row.last_used_at),
            userAgent: row.user_agent,
            ipAddress: row.ip_address,
            current: row.id === current,
          }),
        ),
      };
    },

    async revokeSession(req) {
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      checkUuid(v, "session_id", req.sessionId);
      v.throwIfAny();
      await database.transaction(async (em) => {
        await loadReachableUser(em, req.userId);
        const session = await tables(em).selectFrom("sessions").select("id").where("id", "=", req.sessionId).where("user_id", "=", req.userId).forUpdate().executeTakeFirst();
        if (!session) throw new NotFoundError(`session ${req.sessionId} not found`, { reason: "SESSION_NOT_FOUND" });
        await revokeSessions(em, "revoked by user").where("id", "=", req.sessionId).execute();
      });
      return {};
    },
  };
}
