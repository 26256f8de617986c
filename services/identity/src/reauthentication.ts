// Re-authentication: before a sensitive change (password change, account deletion, turning MFA off) the
// signed-in user gives their password again; failures are throttled and counted like failed sign-ins.
import type { HandlerContext } from "@connectrpc/connect";
import { UnauthenticatedError, type Database } from "@bazaar/platform";
import { clientAddress, type LoginThrottle } from "./login-throttle.ts";
import type { PasswordHasher } from "./passwords.ts";
import type { UserRow } from "./users.ts";

/** Resolves when `password` is `user`'s; else throws UnauthenticatedError naming `field`. */
export type Reauthenticate = (user: UserRow, password: string, ctx: HandlerContext, field: string) => Promise<void>;

export interface ReauthenticationOptions {
  database: Database;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
}

export function createReauthentication(options: ReauthenticationOptions): Reauthenticate {
  const { database, throttle, hasher } = options;
  return async (user, password, ctx, field) => {
    const keys = throttle.keysFor(user.email ?? user.id, clientAddress(ctx.requestHeader));
    await database.transaction((em) => throttle.attempt(em, keys));
    if (!(await hasher.verify(user.password_hash, password))) {
      await database.transaction((em) => throttle.failed(em, keys));
      throw new UnauthenticatedError(`${field}: is wrong`, { reason: "INVALID_CREDENTIALS" });
    }
    await database.transaction((em) => throttle.succeeded(em, keys));
  };
}
