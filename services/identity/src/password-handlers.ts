// Password change (re-authenticated; other sessions are revoked) and reset by a mailed single-use token
// (every session revoked). Both publish PasswordChanged.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { checkEmail, publish, requireUser, UnauthenticatedError, violations, type Database, type EntityManager } from "@bazaar/platform";
import { PasswordChangedSchema, PasswordResetRequestedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { tokenHash } from "./crypto.ts";
import { issueEmailToken } from "./email-tokens.ts";
import { checkNewPassword, PASSWORD_MAX_LENGTH, type PasswordHasher } from "./passwords.ts";
import type { Reauthenticate } from "./reauthentication.ts";
import { callerSessionId, type Sessions } from "./sessions.ts";
import { findUserByEmail, loadOwnAccount } from "./users.ts";
import { normaliseEmail, TOKEN_MAX } from "./validation.ts";

export interface PasswordHandlerDeps {
  database: Database;
  hasher: PasswordHasher;
  sessions: Sessions;
  reauthenticate: Reauthenticate;
}

const RESET_TTL_SECONDS = 30 * 60;

export function passwordHandlers(
  deps: PasswordHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "changePassword" | "requestPasswordReset" | "completePasswordReset"> {
  const { database, hasher, sessions, reauthenticate } = deps;

  async function setPassword(em: EntityManager, userId: string, passwordHash: string, viaReset: boolean, keepSessionId?: string) {
    await em.execute("update users set password_hash = ?, version = version + 1, updated_at = now() where id = ?", [passwordHash, userId], "run");
    await sessions.revokeAll(em, userId, viaReset ? "password reset" : "password changed", keepSessionId);
    await em.execute("update email_tokens set used_at = now() where user_id = ? and purpose = 'reset_password' and used_at is null", [userId], "run");
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

    async requestPasswordReset(req) {
      const email = normaliseEmail(req.email);
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      v.throwIfAny();
      await database.transaction(async (em) => {
        const user = await findUserByEmail(em, email);
        if (!user || user.disabled_at) return;
        const { token, expiresAt } = await issueEmailToken(em, user.id, "reset_password", RESET_TTL_SECONDS);
        await publish(em, PasswordResetRequestedSchema, create(PasswordResetRequestedSchema, {
          userId: user.id,
          email,
          token,
          expireTime: timestampFromDate(expiresAt),
        }));
      });
      return {};
    },

    async completePasswordReset(req) {
      const v = violations();
      if (v.check(req.token.length > 0, "token", "is required")) v.check(req.token.length <= TOKEN_MAX, "token", `must be at most ${TOKEN_MAX} characters`);
      v.check(req.newPassword.length > 0, "new_password", "is required");
      v.throwIfAny();
      const invalid = () => new UnauthenticatedError("token: is invalid, used or expired", { reason: "INVALID_TOKEN" });
      const hash = tokenHash(req.token);
      const [pending] = await database.em().execute<Array<{ user_id: string; email: string | null }>>(
        `select t.user_id, u.email from email_tokens t join users u on u.id = t.user_id
          where t.token_hash = ? and t.purpose = 'reset_password' and t.used_at is null and t.expires_at > now() and u.deleted_at is null`,
        [hash],
      );
      if (!pending) throw invalid();
      checkNewPassword(v, req.newPassword, pending.email ?? "", "new_password");
      v.throwIfAny();
      const passwordHash = await hasher.hash(req.newPassword);
      await database.transaction(async (em) => {
        // Claimed in one statement: of two concurrent completions, one wins.
        const claimed = await em.execute<Array<{ user_id: string }>>(
          "update email_tokens set used_at = now() where token_hash = ? and used_at is null and expires_at > now() returning user_id",
          [hash],
        );
        if (claimed.length !== 1) throw invalid();
        await setPassword(em, pending.user_id, passwordHash, true);
      });
      return {};
    },
  };
}
