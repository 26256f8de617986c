// Accounts: registration (which never tells a stranger whether an address has an account), email
// verification, the profile, and deletion by the owner.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { uuidv7 } from "uuidv7";
import {
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
  sql,
  UnauthenticatedError,
  violations,
  type Database,
  type EntityManager,
  type Sealer,
} from "@bazaar/platform";
import { EmailVerificationRequestedSchema, RegistrationAttemptedSchema, UserDeletedSchema, UserRegisteredSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { claimEmailToken, issueEmailToken } from "./email-tokens.ts";
import { clientAddress, type EmailRequestThrottle } from "./login-throttle.ts";
import { checkNewPassword, PASSWORD_MAX_LENGTH, type PasswordHasher } from "./passwords.ts";
import type { Reauthenticate } from "./reauthentication.ts";
import type { Sessions } from "./sessions.ts";
import { changeUser, findUser, findUserByEmail, loadOwnAccount, loadReachableUser, tables, toUser, type UserRow } from "./users.ts";
import { DISPLAY_NAME, normaliseEmail, TOKEN_MAX } from "./validation.ts";

export interface AccountHandlerDeps {
  database: Database;
  hasher: PasswordHasher;
  sessions: Sessions;
  reauthenticate: Reauthenticate;
  /** Seals the tokens that events carry to the notification service. */
  emailTokenSealer: Sealer;
  emailRequests: EmailRequestThrottle;
}

const VERIFY_EMAIL_TTL_SECONDS = 24 * 3600;

/** Issues a single-use email-verification token for `user` and mails it (through the event), in `em`'s transaction. */
async function requestVerification(em: EntityManager, sealer: Sealer, user: { id: string; email: string }) {
  const { sealedToken, expiresAt } = await issueEmailToken(em, sealer, user.id, "verify_email", VERIFY_EMAIL_TTL_SECONDS);
  await publish(em, EmailVerificationRequestedSchema, create(EmailVerificationRequestedSchema, {
    userId: user.id,
    email: user.email,
    sealedToken,
    expireTime: timestampFromDate(expiresAt),
  }));
}

/** The owner of a taken address hears that someone tried to register with it (nobody else does). */
async function ownerTold(em: EntityManager, owner: UserRow): Promise<void> {
  if (owner.disabled_at || owner.deleted_at || !owner.email) return;
  await publish(em, RegistrationAttemptedSchema, create(RegistrationAttemptedSchema, { userId: owner.id, email: owner.email }));
}

/** What register answers for an address that has an account: the account it would have created. */
function unsavedUser(id: string, email: string, displayName: string, roles: string[]): UserRow {
  const now = new Date();
  return {
    id,
    email,
    password_hash: null,
    display_name: displayName,
    phone: "",
    email_verified_at: null,
    roles,
    disabled_at: null,
    mfa_secret: null,
    mfa_pending_secret: null,
    mfa_enabled_at: null,
    mfa_last_step: 0,
    version: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
}

export function accountHandlers(
  deps: AccountHandlerDeps,
): Pick<ServiceImpl<typeof IdentityService>, "register" | "verifyEmail" | "resendEmailVerification" | "getUser" | "updateUser" | "deleteUser"> {
  const { database, hasher, sessions, reauthenticate, emailTokenSealer, emailRequests } = deps;
  return {
    async register(req) {
      const email = normaliseEmail(req.email);
      const displayName = req.displayName.trim();
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      if (v.check(req.password.length > 0, "password", "is required")) checkNewPassword(v, req.password, email, "password");
      checkText(v, "display_name", displayName, DISPLAY_NAME);
      v.throwIfAny();
      // The password is hashed before anything is looked up, so a taken address costs the same time.
      const passwordHash = await hasher.hash(req.password);
      const id = uuidv7();
      // Registration never grants roles: the first admin comes from admin:bootstrap (first-admin.ts).
      const roles = ["customer"];
      const register = () =>
        database.transaction(async (em) => {
          const existing = await findUserByEmail(em, email);
          if (existing) {
            await ownerTold(em, existing);
            return undefined;
          }
          const user = await tables(em)
            .insertInto("users")
            .values({ id, email, password_hash: passwordHash, display_name: displayName, roles })
            .returningAll()
            .executeTakeFirstOrThrow();
          await publish(em, UserRegisteredSchema, create(UserRegisteredSchema, { userId: id, email, displayName }));
          await requestVerification(em, emailTokenSealer, { id, email });
          return user;
        });
      // A concurrent registration of the same address took it between the look-up and the insert: the
      // second attempt finds it.
      const row = await register().catch((error: unknown) => (isUniqueViolation(error, "users_email_unique") ? register() : Promise.reject(error)));
      // A taken address gets the answer a new account would, with a user that was never created; its
      // owner hears of the attempt by email (RegistrationAttempted) instead of a stranger learning of it.
      return { user: toUser(row ?? unsavedUser(id, email, displayName, roles)) };
    },

    async verifyEmail(req) {
      const v = violations();
      if (v.check(req.token.length > 0, "token", "is required")) v.check(req.token.length <= TOKEN_MAX, "token", `must be at most ${TOKEN_MAX} characters`);
      v.throwIfAny();
      const row = await database.transaction(async (em) => {
        const userId = await claimEmailToken(em, req.token, "verify_email");
        if (!userId) return undefined;
        return changeUser(em, userId)
          .set(() => ({ email_verified_at: sql<Date>`coalesce(email_verified_at, now())` }))
          .where("deleted_at", "is", null)
          .returningAll()
          .executeTakeFirst();
      });
      if (!row) throw new UnauthenticatedError("token: is invalid, used or expired", { reason: "INVALID_TOKEN" });
      return { user: toUser(row) };
    },

    async resendEmailVerification(_req, ctx) {
      const principal = requireUser();
      await database.transaction((em) => emailRequests.attempt(em, `verify:${principal.subject}`, clientAddress(ctx.requestHeader)));
      await database.transaction(async (em) => {
        const user = await loadOwnAccount(em, principal.subject, true);
        if (user.email_verified_at) throw new FailedPreconditionError("the email is verified already", { reason: "ALREADY_VERIFIED" });
        await requestVerification(em, emailTokenSealer, { id: user.id, email: user.email! });
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
        return changeUser(em, existing.id)
          .set({ display_name: paths.includes("display_name") ? displayName : existing.display_name, phone: paths.includes("phone") ? user!.phone : existing.phone })
          .returningAll()
          .executeTakeFirstOrThrow();
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
        for (const table of ["addresses", "recovery_codes", "email_tokens", "mfa_challenges"] as const) {
          await tables(em).deleteFrom(table).where("user_id", "=", user.id).execute();
        }
        await changeUser(em, user.id)
          .set({
            email: null,
            password_hash: null,
            display_name: "",
            phone: "",
            mfa_secret: null,
            mfa_pending_secret: null,
            mfa_enabled_at: null,
            roles: ["customer"],
            deleted_at: sql<Date>`now()`,
          })
          .execute();
        await tables(em).updateTable("sessions").set({ user_agent: "", ip_address: "" }).where("user_id", "=", user.id).execute();
        await publish(em, UserDeletedSchema, create(UserDeletedSchema, { userId: user.id }));
      });
      return {};
    },
  };
}
