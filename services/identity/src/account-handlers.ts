// Accounts: registration (the first admin by configured email), email verification, the profile, and
// deletion by the owner.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { uuidv7 } from "uuidv7";
import {
  AlreadyExistsError,
  checkEmail,
  checkPhone,
  checkText,
  checkUpdateMask,
  checkUuid,
  ConflictError,
  FailedPreconditionError,
  isUniqueViolation,
  NotFoundError,
  publish,
  requireUser,
  UnauthenticatedError,
  violations,
  type Database,
  type EntityManager,
} from "@bazaar/platform";
import { EmailVerificationRequestedSchema, UserDeletedSchema, UserRegisteredSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { tokenHash } from "./crypto.ts";
import { issueEmailToken } from "./email-tokens.ts";
import { checkNewPassword, PASSWORD_MAX_LENGTH, type PasswordHasher } from "./passwords.ts";
import type { Reauthenticate } from "./reauthentication.ts";
import type { Sessions } from "./sessions.ts";
import { findUser, findUserByEmail, loadOwnAccount, loadReachableUser, toUser, type UserRow } from "./users.ts";
import { DISPLAY_NAME, normaliseEmail, TOKEN_MAX } from "./validation.ts";

export interface AccountHandlerDeps {
  database: Database;
  hasher: PasswordHasher;
  sessions: Sessions;
  reauthenticate: Reauthenticate;
  /** IDENTITY_ADMIN_EMAIL, normalised: the account registering with it gets the admin role. */
  adminEmail: string | undefined;
}

const VERIFY_EMAIL_TTL_SECONDS = 24 * 3600;

/** Issues a single-use email-verification token for `user` and mails it (through the event), in `em`'s transaction. */
async function requestVerification(em: EntityManager, user: { id: string; email: string }) {
  const { token, expiresAt } = await issueEmailToken(em, user.id, "verify_email", VERIFY_EMAIL_TTL_SECONDS);
  await publish(em, EmailVerificationRequestedSchema, create(EmailVerificationRequestedSchema, {
    userId: user.id,
    email: user.email,
    token,
    expireTime: timestampFromDate(expiresAt),
  }));
}

export function accountHandlers(
  deps: AccountHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "register" | "verifyEmail" | "resendEmailVerification" | "getUser" | "updateUser" | "deleteUser"> {
  const { database, hasher, sessions, reauthenticate, adminEmail } = deps;
  return {
    async register(req) {
      const email = normaliseEmail(req.email);
      const displayName = req.displayName.trim();
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      if (v.check(req.password.length > 0, "password", "is required")) checkNewPassword(v, req.password, email, "password");
      checkText(v, "display_name", displayName, DISPLAY_NAME);
      v.throwIfAny();
      const taken = () => new AlreadyExistsError("email: an account with this email exists already", { reason: "EMAIL_TAKEN" });
      if (await findUserByEmail(database.em(), email)) throw taken();
      const passwordHash = await hasher.hash(req.password);
      const id = uuidv7();
      const roles = email === adminEmail ? ["customer", "admin"] : ["customer"];
      try {
        const row = await database.transaction(async (em) => {
          const [user] = await em.execute<UserRow[]>(
            "insert into users (id, email, password_hash, display_name, roles) values (?, ?, ?, ?, string_to_array(?, ',')) returning *",
            [id, email, passwordHash, displayName, roles.join(",")],
          );
          await publish(em, UserRegisteredSchema, create(UserRegisteredSchema, { userId: id, email, displayName }));
          await requestVerification(em, { id, email });
          return user!;
        });
        return { user: toUser(row) };
      } catch (error) {
        if (isUniqueViolation(error, "users_email_unique")) throw taken();
        throw error;
      }
    },

    async verifyEmail(req) {
      const v = violations();
      if (v.check(req.token.length > 0, "token", "is required")) v.check(req.token.length <= TOKEN_MAX, "token", `must be at most ${TOKEN_MAX} characters`);
      v.throwIfAny();
      const row = await database.transaction(async (em) => {
        const [claimed] = await em.execute<Array<{ user_id: string }>>(
          `update email_tokens set used_at = now()
            where token_hash = ? and purpose = 'verify_email' and used_at is null and expires_at > now() returning user_id`,
          [tokenHash(req.token)],
        );
        if (!claimed) return undefined;
        const [user] = await em.execute<UserRow[]>(
          `update users set email_verified_at = coalesce(email_verified_at, now()), version = version + 1, updated_at = now()
            where id = ? and deleted_at is null returning *`,
          [claimed.user_id],
        );
        return user;
      });
      if (!row) throw new UnauthenticatedError("token: is invalid, used or expired", { reason: "INVALID_TOKEN" });
      return { user: toUser(row) };
    },

    async resendEmailVerification() {
      const principal = requireUser();
      await database.transaction(async (em) => {
        const user = await loadOwnAccount(em, principal.subject, true);
        if (user.email_verified_at) throw new FailedPreconditionError("the email is verified already", { reason: "ALREADY_VERIFIED" });
        await requestVerification(em, { id: user.id, email: user.email! });
      });
      return {};
    },

    async getUser(req) {
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      v.throwIfAny();
      return { user: toUser(await loadReachableUser(database.em(), req.userId)) };
    },

    async updateUser(req) {
      const v = violations();
      const paths = [...new Set(req.updateMask?.paths ?? [])];
      if (v.check(req.user, "user", "is required")) {
        checkUuid(v, "user.id", req.user!.id);
        v.check(req.user!.etag === "" || /^[0-9]{1,10}$/.test(req.user!.etag), "user.etag", "is not an etag of this API");
      }
      checkUpdateMask(v, paths, ["display_name", "phone"]);
      const user = req.user;
      const displayName = user?.displayName.trim() ?? "";
      if (paths.includes("display_name")) checkText(v, "user.display_name", displayName, DISPLAY_NAME);
      if (paths.includes("phone")) checkPhone(v, "user.phone", user?.phone ?? "");
      v.throwIfAny();
      const row = await database.transaction(async (em) => {
        const existing = await loadReachableUser(em, user!.id, true);
        if (user!.etag !== "" && user!.etag !== String(existing.version)) {
          throw new ConflictError("the user changed since it was read (etag mismatch); read it again", { reason: "ETAG_MISMATCH" });
        }
        const [updated] = await em.execute<UserRow[]>(
          "update users set display_name = ?, phone = ?, version = version + 1, updated_at = now() where id = ? returning *",
          [paths.includes("display_name") ? displayName : existing.display_name, paths.includes("phone") ? user!.phone : existing.phone, existing.id],
        );
        return updated!;
      });
      return { user: toUser(row) };
    },

    async deleteUser(req, ctx) {
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      v.check(req.password.length > 0, "password", "is required");
      v.check(req.password.length <= PASSWORD_MAX_LENGTH * 4, "password", "is too long");
      v.throwIfAny();
      const principal = requireUser();
      // Only the owner deletes an account (admins disable); strangers learn nothing.
      if (principal.subject !== req.userId) throw new NotFoundError(`user ${req.userId} not found`, { reason: "USER_NOT_FOUND" });
      const user = await findUser(database.em(), req.userId);
      if (!user) throw new NotFoundError(`user ${req.userId} not found`, { reason: "USER_NOT_FOUND" });
      await reauthenticate(user, req.password, ctx, "password");
      await database.transaction(async (em) => {
        await sessions.revokeAll(em, user.id, "account deleted");
        for (const table of ["addresses", "recovery_codes", "email_tokens", "mfa_challenges"]) {
          await em.execute(`delete from ${table} where user_id = ?`, [user.id], "run");
        }
        await em.execute(
          `update users set email = null, password_hash = null, display_name = '', phone = '', mfa_secret = null,
             mfa_pending_secret = null, mfa_enabled_at = null, roles = array['customer'], deleted_at = now(),
             version = version + 1, updated_at = now() where id = ?`,
          [user.id],
          "run",
        );
        await em.execute("update sessions set user_agent = '', ip_address = '' where user_id = ?", [user.id], "run");
        await publish(em, UserDeletedSchema, create(UserDeletedSchema, { userId: user.id }));
      });
      return {};
    },
  };
}
