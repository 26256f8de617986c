// Password change (re-authenticated; other sessions are revoked) and reset by a mailed single-use token
// (every session revoked). Both publish PasswordChanged.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { checkEmail, publish, requireUser, sql, UnauthenticatedError, violations, type Database, type EntityManager } from "@bazaar/platform";
import { PasswordChangedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { tokenHash } from "./crypto.ts";
import { claimEmailToken } from "./email-tokens.ts";
import { clientAddress, type EmailRequestThrottle } from "./login-throttle.ts";
import { checkNewPassword, PASSWORD_MAX_LENGTH, type PasswordHasher } from "./passwords.ts";
import type { Reauthenticate } from "./reauthentication.ts";
import type { PasswordResets } from "./password-resets.ts";
import { callerSessionId, type Sessions } from "./sessions.ts";
import { changeUser, loadOwnAccount, tables } from "./users.ts";
import { normaliseEmail, TOKEN_MAX } from "./validation.ts";

export interface PasswordHandlerDeps {
  database: Database;
  hasher: PasswordHasher;
  sessions: Sessions;
  reauthenticate: Reauthenticate;
  resets: PasswordResets;
  emailRequests: EmailRequestThrottle;
}

export function passwordHandlers(
  deps: PasswordHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "changePassword" | "requestPasswordReset" | "completePasswordReset"> {
  const { database, hasher, sessions, reauthenticate, resets, emailRequests } = deps;

  async function setPassword(em: EntityManager, userId: string, passwordHash: string, viaReset: boolean, keepSessionId?: string) {
    await changeUser(em, userId).set({ password_hash: passwordHash }).execute();
    await sessions.revokeAll(em, userId, viaReset ? "password reset" : "password changed", keepSessionId);
    await tables(em)
      .updateTable("email_tokens")
      .set({ used_at: sql<Date>`now()` })
      .where("user_id", "=", userId)
      .where("purpose", "=", "reset_password")
      .where("used_at", "is", null)
      .execute();
    await publish(em, PasswordChangedSchema, create(PasswordChangedSchema, { userId, viaReset }));
  }

  return {
    async changePassword(req, ctx) {
      const principal = requireUser();
      const v = violations();
      if (v.check(req.currentPassword.length > 0, "current_password", "is required")) {
        v.check(req.currentPassword.length <= PASSWORD_MAX_LENGTH * 4, "current_password", "is too long");
      }
      const user = await loadOwnAccount(database.em(), principal.subject);
      if (v.check(req.newPassword.length > 0, "new_password", "is required")) checkNewPassword(v, req.newPassword, user.email ?? "", "new_password");
      v.check(req.newPassword !== req.currentPassword, "new_password", "must differ from the current password");
      v.throwIfAny();
      await reauthenticate(user, req.currentPassword, ctx, "current_password");
      const passwordHash = await hasher.hash(req.newPassword);
      await database.transaction((em) => setPassword(em, user.id, passwordHash, false, callerSessionId(principal.token)));
      return {};
    },

    async requestPasswordReset(req, ctx) {
      const email = normaliseEmail(req.email);
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      v.throwIfAny();
      // Counted per address asked for (known or not: the count tells nothing) and per client.
      await database.transaction((em) => emailRequests.attempt(em, `reset:${email}`, clientAddress(ctx.requestHeader)));
      await database.transaction((em) => resets.queue(em, email));
      resets.wake();
      return {};
    },

    async completePasswordReset(req) {
      const v = violations();
      if (v.check(req.token.length > 0, "token", "is required")) v.check(req.token.length <= TOKEN_MAX, "token", `must be at most ${TOKEN_MAX} characters`);
      v.check(req.newPassword.length > 0, "new_password", "is required");
      v.throwIfAny();
      const invalid = () => new UnauthenticatedError("token: is invalid, used or expired", { reason: "INVALID_TOKEN" });
      const hash = tokenHash(req.token);
      const pending = await tables(database.em())
        .selectFrom("email_tokens as t")
        .innerJoin("users as u", "u.id", "t.user_id")
        .select(["t.user_id", "u.email"])
        .where("t.token_hash", "=", hash)
        .where("t.purpose", "=", "reset_password")
        .where("t.used_at", "is", null)
        .where("t.expires_at", ">", sql<Date>`now()`)
        .where("u.deleted_at", "is", null)
        .executeTakeFirst();
      if (!pending) throw invalid();
      checkNewPassword(v, req.newPassword, pending.email ?? "", "new_password");
      v.throwIfAny();
      const passwordHash = await hasher.hash(req.newPassword);
      await database.transaction(async (em) => {
        // Claimed in one statement: of two concurrent completions, one wins.
        if (!(await claimEmailToken(em, req.token, "reset_password"))) throw invalid();
        await setPassword(em, pending.user_id, passwordHash, true);
      });
      return {};
    },
  };
}
