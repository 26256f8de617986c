// The admin's RPCs over users: search, roles (never leaving no admin), disabling (every session revoked,
// UserDisabled published) and enabling.
import type { ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  ADMIN_ROLE,
  checkPageSize,
  checkUuid,
  decodePageToken,
  EMAIL_MAX_LENGTH,
  encodePageToken,
  FailedPreconditionError,
  isUuid,
  NotFoundError,
  publish,
  requireRole,
  violations,
  type Database,
  type Logger,
} from "@bazaar/platform";
import { UserDisabledSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import type { Sessions } from "./sessions.ts";
import { findUser, roleNames, toUser, type UserRow } from "./users.ts";
import { USERS_PAGE_SIZE } from "./validation.ts";

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
      const size = checkPageSize(v, req.pageSize, USERS_PAGE_SIZE);
      const query = req.query.trim().toLowerCase();
      v.check(query.length <= EMAIL_MAX_LENGTH, "query", `must be at most ${EMAIL_MAX_LENGTH} characters`);
      // A page token is bound to its query: reusing it with another query is refused, not misread.
      const position = decodePageToken(v, { query }, req.pageToken, { valid: ([id]) => id !== undefined && isUuid(id) });
      const after = position?.[0] ?? "00000000-0000-0000-0000-000000000000";
      v.throwIfAny();
      const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const rows = await database.em().execute<UserRow[]>(
        "select * from users where deleted_at is null and id > ? and (? = '' or email like ?) order by id limit ?",
        [after, query, pattern, size + 1],
      );
      const page = rows.slice(0, size);
      return {
        users: page.map(toUser),
        nextPageToken: rows.length > size ? encodePageToken({ query }, [page[page.length - 1]!.id]) : "",
      };
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
        await em.execute("select pg_advisory_xact_lock(4242)", [], "run");
        const user = await findUser(em, req.userId, true);
        if (!user) throw new NotFoundError(`user ${req.userId} not found`, { reason: "USER_NOT_FOUND" });
        if (user.roles.includes("admin") && !roles.includes("admin")) {
          const [{ others } = { others: 0 }] = await em.execute<Array<{ others: number }>>(
            "select count(*)::int as others from users where 'admin' = any(roles) and deleted_at is null and disabled_at is null and id <> ?",
            [user.id],
          );
          if (others === 0) throw new FailedPreconditionError("this would remove the last admin", { reason: "LAST_ADMIN" });
        }
        const [updated] = await em.execute<UserRow[]>("update users set roles = string_to_array(?, ','), version = version + 1, updated_at = now() where id = ? returning *", [roles.join(","), user.id]);
        logger.info({ userId: user.id, roles, by: principal.subject }, "roles changed");
        return updated!;
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
        const [updated] = await em.execute<UserRow[]>(
          "update users set disabled_at = now(), version = version + 1, updated_at = now() where id = ? and disabled_at is null returning *",
          [user.id],
        );
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
        const [updated] = await em.execute<UserRow[]>("update users set disabled_at = null, version = version + 1, updated_at = now() where id = ? returning *", [user.id]);
        return updated!;
      });
      return { user: toUser(row) };
    },
  };
}
