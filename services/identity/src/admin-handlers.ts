// The admin's RPCs over users: search, roles (never leaving no admin), disabling (every session revoked,
// UserDisabled published) and enabling.
import type { ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  ADMIN_ROLE,
  checkUuid,
  EMAIL_MAX_LENGTH,
  FailedPreconditionError,
  isUuid,
  keysetPage,
  NotFoundError,
  publish,
  query,
  readPage,
  requireRole,
  sql,
  violations,
  type Database,
  type Keyset,
  type Logger,
} from "@bazaar/platform";
import { UserDisabledSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import type { Sessions } from "./sessions.ts";
import { changeUser, findUser, roleNames, selectUsers, tables, toUser } from "./users.ts";
import { USERS_PAGE_SIZE } from "./validation.ts";

/** Users by id. */
const USERS_ORDER: Keyset = { columns: ["id"], direction: "asc", valid: ([id]) => isUuid(id!) };

export interface AdminHandlerDeps {
  database: Database;
  sessions: Sessions;
  logger: Logger;
}

export function adminHandlers(
  deps: AdminHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "listUsers" | "setUserRoles" | "disableUser" | "enableUser"> {
  const { database, sessions, logger } = deps;
  return {
    async listUsers(req) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      const search = req.query.trim().toLowerCase();
      v.check(search.length <= EMAIL_MAX_LENGTH, "query", `must be at most ${EMAIL_MAX_LENGTH} characters`);
      // A page token is bound to its query: reusing it with another query is refused, not misread.
      const page = readPage(v, req, USERS_PAGE_SIZE, { query: search }, USERS_ORDER);
      v.throwIfAny();
      const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const select = selectUsers(database.em()).$if(search !== "", (q) => q.where("email", "like", pattern));
      const { rows, nextPageToken } = await keysetPage(select, page);
      return { users: rows.map(toUser), nextPageToken };
    },

    async setUserRoles(req) {
      const principal = requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      if (v.check(req.roles.length > 0, "roles", "must name at least one role")) {
        v.check(req.roles.length <= 2, "roles", "has too many entries");
        v.check(new Set(req.roles).size === req.roles.length, "roles", "must not repeat a role");
        req.roles.forEach((role, i) => v.check(roleNames[role] !== undefined, `roles[${i}]`, "must be ROLE_CUSTOMER or ROLE_ADMIN"));
      }
      v.throwIfAny();
      const roles = req.roles.map((role) => roleNames[role]!).sort((a, b) => (a === "customer" ? -1 : b === "customer" ? 1 : 0));
      const row = await database.transaction(async (em) => {
        // Serialises role changes, so two admins demoting each other cannot leave none.
        // Raw SQL: an advisory lock has no query-builder form.
        await query(em, "select pg_advisory_xact_lock(4242)");
        const user = await findUser(em, req.userId, true);
        if (!user) throw new NotFoundError(`user ${req.userId} not found`, { reason: "USER_NOT_FOUND" });
        if (user.roles.includes("admin") && !roles.includes("admin")) {
          const otherAdmin = await tables(em)
            .selectFrom("users")
            .select("id")
            .where(sql<boolean>`'admin' = any(roles)`)
            .where("deleted_at", "is", null)
            .where("disabled_at", "is", null)
            .where("id", "<>", user.id)
            .limit(1)
            .executeTakeFirst();
          if (!otherAdmin) throw new FailedPreconditionError("this would remove the last admin", { reason: "LAST_ADMIN" });
        }
        const updated = await changeUser(em, user.id).set({ roles }).returningAll().executeTakeFirstOrThrow();
        logger.info({ userId: user.id, roles, by: principal.subject }, "roles changed");
        return updated;
      });
      return { user: toUser(row) };
    },

    async disableUser(req) {
      const principal = requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      v.throwIfAny();
      if (req.userId === principal.subject) throw new FailedPreconditionError("admins cannot disable their own account", { reason: "SELF_DISABLE" });
      const row = await database.transaction(async (em) => {
        const user = await findUser(em, req.userId, true);
        if (!user) throw new NotFoundError(`user ${req.userId} not found`, { reason: "USER_NOT_FOUND" });
        const updated = await changeUser(em, user.id).set({ disabled_at: sql<Date>`now()` }).where("disabled_at", "is", null).returningAll().executeTakeFirst();
        if (!updated) return user; // already disabled: nothing changes, nothing is published again
        await sessions.revokeAll(em, user.id, "account disabled");
        await publish(em, UserDisabledSchema, create(UserDisabledSchema, { userId: user.id, disabledBy: principal.subject }));
        return updated;
      });
      return { user: toUser(row) };
    },

    async enableUser(req) {
      requireRole(ADMIN_ROLE);
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      v.throwIfAny();
      const row = await database.transaction(async (em) => {
        const user = await findUser(em, req.userId, true);
        if (!user) throw new NotFoundError(`user ${req.userId} not found`, { reason: "USER_NOT_FOUND" });
        if (!user.disabled_at) return user;
        return changeUser(em, user.id).set({ disabled_at: null }).returningAll().executeTakeFirstOrThrow();
      });
      return { user: toUser(row) };
    },
  };
}
