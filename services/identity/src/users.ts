// Users as stored and as the contract shows them, and the ownership rule for reaching one.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ADMIN_ROLE, isUuid, NotFoundError, requireUser, sql, typedQueries, type EntityManager, type Principal } from "@bazaar/platform";
import { Role, UserSchema, type User } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { identityEntities } from "./entities.ts";

/** Identity's tables, typed by its entities, in `em`'s transaction. */
export const tables = (em: EntityManager) => typedQueries(em, identityEntities);

/** Users not deleted, every column. */
export const selectUsers = (em: EntityManager) => tables(em).selectFrom("users").selectAll().where("deleted_at", "is", null);

/** An update of user `id` that bumps its version (its etag) and updated_at; the caller adds the columns. */
export const changeUser = (em: EntityManager, id: string) =>
  tables(em)
    .updateTable("users")
    .set((eb) => ({ version: eb("version", "+", 1), updated_at: sql<Date>`now()` }))
    .where("id", "=", id);

/** A user row as the entity types it. */
export type UserRow = Awaited<ReturnType<ReturnType<typeof selectUsers>["executeTakeFirstOrThrow"]>>;

export const roleNames: Record<Role, string | undefined> = {
  [Role.UNSPECIFIED]: undefined,
  [Role.CUSTOMER]: "customer",
  [Role.ADMIN]: "admin",
};

export function roleFromName(name: string): Role {
  return name === "admin" ? Role.ADMIN : name === "customer" ? Role.CUSTOMER : Role.UNSPECIFIED;
}

export function toUser(row: UserRow): User {
  return create(UserSchema, {
    id: row.id,
    email: row.email ?? "",
    emailVerified: row.email_verified_at !== null,
    displayName: row.display_name,
    phone: row.phone,
    roles: row.roles.map(roleFromName),
    disabled: row.disabled_at !== null,
    mfaEnabled: row.mfa_enabled_at !== null,
    createTime: timestampFromDate(row.created_at),
    updateTime: timestampFromDate(row.updated_at),
    etag: String(row.version),
  });
}

export async function findUser(em: EntityManager, id: string, lock = false): Promise<UserRow | undefined> {
  if (!isUuid(id)) return undefined;
  return selectUsers(em)
    .where("id", "=", id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
}

/** The signed-in caller's own account (`principal.subject`); NOT_FOUND when it no longer exists. */
export async function loadOwnAccount(em: EntityManager, userId: string, lock = false): Promise<UserRow> {
  const user = await findUser(em, userId, lock);
  if (!user) throw new NotFoundError("user not found", { reason: "USER_NOT_FOUND" });
  return user;
}

export async function findUserByEmail(em: EntityManager, email: string): Promise<UserRow | undefined> {
  return selectUsers(em).where("email", "=", email).executeTakeFirst();
}

/**
 * The signed-in caller may reach user `userId`: themselves or an admin. Anyone else gets NOT_FOUND, so
 * other customers' ids are not confirmed to exist (BOLA). Returns the principal.
 */
export function requireSelfOrAdmin(userId: string): Principal {
  const principal = requireUser();
  if (principal.subject === userId || principal.roles.includes(ADMIN_ROLE)) return principal;
  throw new NotFoundError(`user ${userId.slice(0, 36)} not found`, { reason: "USER_NOT_FOUND" });
}

export async function loadReachableUser(em: EntityManager, userId: string, lock = false): Promise<UserRow> {
  requireSelfOrAdmin(userId);
  const row = await findUser(em, userId, lock);
  if (!row) throw new NotFoundError(`user ${userId.slice(0, 36)} not found`, { reason: "USER_NOT_FOUND" });
  return row;
}
