// The shop's first admin, granted by an operator (the `admin:bootstrap` command), never by registering
// an address: only once (while no admin exists), to an account that exists already. Later admins are
// made by an admin (UpdateUserRoles).
import { sql, type Database } from "@bazaar/platform";
import { tables } from "./users.ts";
import { normaliseEmail } from "./validation.ts";

export type FirstAdminOutcome = "granted" | "admin-exists" | "no-account";

// Serialises concurrent bootstraps: "no admin yet" and the grant must be one decision.
const FIRST_ADMIN_LOCK_KEY = 7_322_775_417;

export function grantFirstAdmin(database: Database, email: string): Promise<FirstAdminOutcome> {
  const address = normaliseEmail(email);
  return database.transaction(async (em) => {
    await sql`select pg_advisory_xact_lock(${FIRST_ADMIN_LOCK_KEY})`.execute(tables(em));
    const admin = await tables(em)
      .selectFrom("users")
      .select("id")
      .where("deleted_at", "is", null)
      .where(sql<boolean>`'admin' = any(roles)`)
      .limit(1)
      .executeTakeFirst();
    if (admin) return "admin-exists";
    const granted = await tables(em)
      .updateTable("users")
      .set({ roles: ["customer", "admin"] })
      .where("email", "=", address)
      .where("deleted_at", "is", null)
      .returning("id")
      .executeTakeFirst();
    return granted ? "granted" : "no-account";
  });
}
