// The IdentityService RPCs: input checks first (every field bounded, all violations at once), then
// the domain step in one transaction, events through the outbox in that same transaction.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { uuidv7 } from "uuidv7";
import {
  ADMIN_ROLE,
  AlreadyExistsError,
  checkEmail,
  checkPageSize,
  checkPhone,
  checkText,
  checkUpdateMask,
  checkUuid,
  ConflictError,
  decodePageToken,
  EMAIL_MAX_LENGTH,
  encodePageToken,
  FailedPreconditionError,
  isUuid,
  NotFoundError,
  PermissionDeniedError,
  publish,
  requireRole,
  requireUser,
  UnauthenticatedError,
  violations,
  type Database,
  type EntityManager,
  type Logger,
} from "@bazaar/platform";
import {
  EmailVerificationRequestedSchema,
  PasswordChangedSchema,
  PasswordResetRequestedSchema,
  UserDeletedSchema,
  UserDisabledSchema,
  UserRegisteredSchema,
} from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import { IdentityService, JsonWebKeySchema, SessionSchema } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { createAddressHandlers } from "./addresses.ts";
import type { IdentityConfig } from "./config.ts";
import { randomToken, tokenHash, type SecretBox } from "./crypto.ts";
import { accountKey, addressKey, clientAddress, type LoginThrottle, type ThrottleKey } from "./login-throttle.ts";
import { matchTotp, newRecoveryCodes, newTotpSecret, provisioningUri, recoveryCodeHash } from "./mfa.ts";
import { passwordProblem, PASSWORD_MAX_LENGTH, type PasswordHasher } from "./passwords.ts";
import { SERVICE_NAME, type ServiceTokenIssuer } from "./service-tokens.ts";
import type { Sessions } from "./sessions.ts";
import type { KeyStore } from "./signing-keys.ts";
import { findUser, findUserByEmail, loadReachableUser, requireSelfOrAdmin, roleNames, toUser, type UserRow } from "./users.ts";
import { DISPLAY_NAME, normaliseEmail, TOKEN_MAX, USERS_PAGE_SIZE } from "./validation.ts";

export interface IdentityDeps {
  database: Database;
  config: IdentityConfig;
  keyStore: KeyStore;
  sessions: Sessions;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  serviceTokens: ServiceTokenIssuer;
  logger: Logger;
}

const VERIFY_EMAIL_TTL_SECONDS = 24 * 3600;
const RESET_TTL_SECONDS = 30 * 60;
const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
const MFA_CHALLENGE_MAX_FAILURES = 5;
const USER_AGENT_MAX = 256;

const invalidCredentials = () => new UnauthenticatedError("email or password is wrong", { reason: "INVALID_CREDENTIALS" });

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; name?: string; cause?: { code?: string } };
  return e?.code === "23505" || e?.cause?.code === "23505" || e?.name === "UniqueConstraintViolationException";
}

/** The session id (`sid`) of the caller's access token, if any. */
function callerSessionId(token: string): string | undefined {
  try {
    const sid = decodeJwt(token).sid;
    return typeof sid === "string" ? sid : undefined;
  } catch {
    return undefined;
  }
}

function device(ctx: HandlerContext) {
  return {
    userAgent: (ctx.requestHeader.get("user-agent") ?? "").slice(0, USER_AGENT_MAX),
    ipAddress: clientAddress(ctx.requestHeader),
  };
}

export function identityHandlers(deps: IdentityDeps): ServiceImpl<typeof IdentityService> {
  const { database, config, keyStore, sessions, throttle, hasher, secretBox } = deps;
  const addresses = createAddressHandlers(database);
  const adminEmail = config.IDENTITY_ADMIN_EMAIL ? normaliseEmail(config.IDENTITY_ADMIN_EMAIL) : undefined;

  const throttleKeys = (email: string, ip: string): ThrottleKey[] => [
    { key: accountKey(email), free: config.IDENTITY_LOGIN_FREE_FAILURES_PER_ACCOUNT },
    { key: addressKey(ip), free: config.IDENTITY_LOGIN_FREE_FAILURES_PER_ADDRESS },
  ];

  async function requestVerification(em: EntityManager, user: { id: string; email: string }) {
    const token = randomToken();
    const expiresAt = new Date(Date.now() + VERIFY_EMAIL_TTL_SECONDS * 1000);
    await em.execute("insert into email_tokens (token_hash, user_id, purpose, expires_at) values (?, ?, 'verify_email', ?)", [
      tokenHash(token),
      user.id,
      expiresAt,
    ], "run");
    await publish(em, EmailVerificationRequestedSchema, create(EmailVerificationRequestedSchema, {
      userId: user.id,
      email: user.email,
      token,
      expireTime: timestampFromDate(expiresAt),
    }));
  }

  /** Checks the password of the signed-in user's account (re-authentication); failures count like failed logins. */
  async function reauthenticate(user: UserRow, password: string, ctx: HandlerContext, field: string) {
    const keys = throttleKeys(user.email ?? user.id, clientAddress(ctx.requestHeader));
    await throttle.check(database.em(), keys);
    if (!(await hasher.verify(user.password_hash, password))) {
      await database.transaction((em) => throttle.recordFailure(em, keys));
      throw new UnauthenticatedError(`${field}: is wrong`, { reason: "INVALID_CREDENTIALS" });
    }
  }

  /** A TOTP code (once per time step) or an unused recovery code of `user`, consumed in `em`'s transaction. */
  async function consumeSecondFactor(em: EntityManager, user: UserRow, code: string, recoveryCode: string): Promise<boolean> {
    if (code !== "") {
      if (!user.mfa_secret) return false;
      const step = matchTotp(secretBox.open(user.mfa_secret), code);
      if (step === undefined || step <= Number(user.mfa_last_step)) return false;
      await em.execute("update users set mfa_last_step = ? where id = ?", [step, user.id], "run");
      return true;
    }
    const used = await em.execute<Array<{ code_hash: string }>>(
      "update recovery_codes set used_at = now() where user_id = ? and code_hash = ? and used_at is null returning code_hash",
      [user.id, recoveryCodeHash(recoveryCode)],
    );
    return used.length === 1;
  }

  function checkSecondFactor(v: ReturnType<typeof violations>, code: string, recoveryCode: string) {
    if (code === "" && recoveryCode === "") v.add("code", "is required (or give recovery_code)");
    else if (code !== "" && recoveryCode !== "") v.add("recovery_code", "give either code or recovery_code, not both");
    else if (code !== "") v.check(/^[0-9]{6}$/.test(code), "code", "must be 6 digits");
    else v.check(recoveryCode.length <= 32, "recovery_code", "must be at most 32 characters");
  }

  function checkNewPassword(v: ReturnType<typeof violations>, password: string, email: string, field: string) {
    const problem = passwordProblem(password, email);
    if (problem) v.add(field, problem);
  }

  async function setPassword(em: EntityManager, userId: string, passwordHash: string, viaReset: boolean, keepSessionId?: string) {
    await em.execute("update users set password_hash = ?, version = version + 1, updated_at = now() where id = ?", [passwordHash, userId], "run");
    await sessions.revokeAll(em, userId, viaReset ? "password reset" : "password changed", keepSessionId);
    await em.execute("update email_tokens set used_at = now() where user_id = ? and purpose = 'reset_password' and used_at is null", [userId], "run");
    await publish(em, PasswordChangedSchema, create(PasswordChangedSchema, { userId, viaReset }));
  }

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
        if (isUniqueViolation(error)) throw taken();
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
        const user = await findUser(em, principal.subject, true);
        if (!user) throw new NotFoundError("user not found", { reason: "USER_NOT_FOUND" });
        if (user.email_verified_at) throw new FailedPreconditionError("the email is verified already", { reason: "ALREADY_VERIFIED" });
        await requestVerification(em, { id: user.id, email: user.email! });
      });
      return {};
    },

    async login(req, ctx) {
      const email = normaliseEmail(req.email);
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      if (v.check(req.password.length > 0, "password", "is required")) {
        v.check(req.password.length <= PASSWORD_MAX_LENGTH * 4, "password", `must be at most ${PASSWORD_MAX_LENGTH} characters`);
      }
      v.throwIfAny();
      const dev = device(ctx);
      const keys = throttleKeys(email, dev.ipAddress);
      await throttle.check(database.em(), keys);
      const user = await findUserByEmail(database.em(), email);
      // Unknown email and wrong password: the same error after the same argon2 work.
      if (!(await hasher.verify(user?.password_hash, req.password)) || !user) {
        await database.transaction((em) => throttle.recordFailure(em, keys));
        throw invalidCredentials();
      }
      if (user.disabled_at) throw new PermissionDeniedError("the account is disabled", { reason: "ACCOUNT_DISABLED" });
      return database.transaction(async (em) => {
        await throttle.clear(em, accountKey(email));
        if (user.mfa_enabled_at) {
          const challenge = randomToken();
          await em.execute(
            `insert into mfa_challenges (token_hash, user_id, session_user_agent, session_ip_address, expires_at)
             values (?, ?, ?, ?, now() + make_interval(secs => ?))`,
            [tokenHash(challenge), user.id, dev.userAgent, dev.ipAddress, MFA_CHALLENGE_TTL_SECONDS],
            "run",
          );
          return { mfaChallenge: challenge };
        }
        return { tokens: await sessions.start(em, user.id, user.roles, dev) };
      });
    },

    async completeMfaLogin(req, ctx) {
      const v = violations();
      if (v.check(req.mfaChallenge.length > 0, "mfa_challenge", "is required")) {
        v.check(req.mfaChallenge.length <= TOKEN_MAX, "mfa_challenge", `must be at most ${TOKEN_MAX} characters`);
      }
      checkSecondFactor(v, req.code, req.recoveryCode);
      v.throwIfAny();
      const ip = clientAddress(ctx.requestHeader);
      const outcome = await database.transaction(async (em) => {
        const [challenge] = await em.execute<Array<{ user_id: string; session_user_agent: string; session_ip_address: string }>>(
          `select user_id, session_user_agent, session_ip_address from mfa_challenges
            where token_hash = ? and used_at is null and expires_at > now() and failures < ? for update`,
          [tokenHash(req.mfaChallenge), MFA_CHALLENGE_MAX_FAILURES],
        );
        if (!challenge) return { kind: "invalid" } as const;
        const user = await findUser(em, challenge.user_id, true);
        if (!user || !user.mfa_enabled_at) return { kind: "invalid" } as const;
        const keys = throttleKeys(user.email!, ip);
        await throttle.check(em, keys);
        if (!(await consumeSecondFactor(em, user, req.code, req.recoveryCode))) {
          await em.execute("update mfa_challenges set failures = failures + 1 where token_hash = ?", [tokenHash(req.mfaChallenge)], "run");
          await throttle.recordFailure(em, keys);
          return { kind: "wrong-code" } as const;
        }
        if (user.disabled_at) return { kind: "disabled" } as const;
        await em.execute("update mfa_challenges set used_at = now() where token_hash = ?", [tokenHash(req.mfaChallenge)], "run");
        const tokens = await sessions.start(em, user.id, user.roles, { userAgent: challenge.session_user_agent, ipAddress: challenge.session_ip_address });
        return { kind: "ok", tokens } as const;
      });
      switch (outcome.kind) {
        case "ok":
          return { tokens: outcome.tokens };
        case "wrong-code":
          throw new UnauthenticatedError(req.code ? "code: is wrong or already used" : "recovery_code: is wrong or already used", { reason: "INVALID_MFA_CODE" });
        case "disabled":
          throw new PermissionDeniedError("the account is disabled", { reason: "ACCOUNT_DISABLED" });
        default:
          throw new UnauthenticatedError("mfa_challenge: is invalid, used or expired; sign in again", { reason: "INVALID_MFA_CHALLENGE" });
      }
    },

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

    async getJwks() {
      const { keys } = await keyStore.jwks();
      return { keys: keys.map((k) => create(JsonWebKeySchema, k)) };
    },

    async rotateSigningKey() {
      requireRole(ADMIN_ROLE);
      return { kid: await keyStore.rotate() };
    },

    async issueServiceToken(req) {
      const v = violations();
      if (v.check(req.service !== "", "service", "is required")) v.check(SERVICE_NAME.test(req.service), "service", "must be 1–63 of a–z, 0–9 and -");
      v.throwIfAny();
      const { token, expiresAt } = await deps.serviceTokens.issue(req.service, req.clientSecret);
      return { accessToken: token, expireTime: timestampFromDate(expiresAt) };
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

    async changePassword(req, ctx) {
      const principal = requireUser();
      const v = violations();
      if (v.check(req.currentPassword.length > 0, "current_password", "is required")) {
        v.check(req.currentPassword.length <= PASSWORD_MAX_LENGTH * 4, "current_password", "is too long");
      }
      const user = await findUser(database.em(), principal.subject);
      if (!user) throw new NotFoundError("user not found", { reason: "USER_NOT_FOUND" });
      if (v.check(req.newPassword.length > 0, "new_password", "is required")) checkNewPassword(v, req.newPassword, user.email ?? "", "new_password");
      v.check(req.newPassword !== req.currentPassword, "new_password", "must differ from the current password");
      v.throwIfAny();
      await reauthenticate(user, req.currentPassword, ctx, "current_password");
      const passwordHash = await hasher.hash(req.newPassword);
      await database.transaction((em) => setPassword(em, user.id, passwordHash, false, callerSessionId(principal.token)));
      return {};
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

    async requestPasswordReset(req) {
      const email = normaliseEmail(req.email);
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      v.throwIfAny();
      await database.transaction(async (em) => {
        const user = await findUserByEmail(em, email);
        if (!user || user.disabled_at) return;
        const token = randomToken();
        const expiresAt = new Date(Date.now() + RESET_TTL_SECONDS * 1000);
        await em.execute("insert into email_tokens (token_hash, user_id, purpose, expires_at) values (?, ?, 'reset_password', ?)", [
          tokenHash(token),
          user.id,
          expiresAt,
        ], "run");
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

    async listSessions(req) {
      const v = violations();
      checkUuid(v, "user_id", req.userId);
      v.throwIfAny();
      const em = database.em();
      const principal = requireSelfOrAdmin(req.userId);
      await loadReachableUser(em, req.userId);
      const current = callerSessionId(principal.token);
      const rows = await em.execute<Array<{ id: string; user_id: string; created_at: Date; last_used_at: Date; user_agent: string; ip_address: string }>>(
        `select id, user_id, created_at, last_used_at, user_agent, ip_address from sessions
          where user_id = ? and revoked_at is null and expires_at > now() order by created_at desc limit 100`,
        [req.userId],
      );
      return {
        sessions: rows.map((row) =>
          create(SessionSchema, {
            id: row.id,
            userId: row.user_id,
            createTime: timestampFromDate(new Date(row.created_at)),
            lastUsedTime: timestampFromDate(new Date(row.last_used_at)),
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
        const [session] = await em.execute<Array<{ id: string }>>("select id from sessions where id = ? and user_id = ? for update", [req.sessionId, req.userId]);
        if (!session) throw new NotFoundError(`session ${req.sessionId} not found`, { reason: "SESSION_NOT_FOUND" });
        await em.execute("update sessions set revoked_at = now(), revoked_reason = 'revoked by user' where id = ? and revoked_at is null", [req.sessionId], "run");
      });
      return {};
    },

    async enrollMfa() {
      const principal = requireUser();
      return database.transaction(async (em) => {
        const user = await findUser(em, principal.subject, true);
        if (!user) throw new NotFoundError("user not found", { reason: "USER_NOT_FOUND" });
        if (user.mfa_enabled_at) throw new FailedPreconditionError("MFA is enabled already; disable it first", { reason: "MFA_ENABLED" });
        const secret = newTotpSecret();
        await em.execute("update users set mfa_pending_secret = ? where id = ?", [secretBox.seal(secret), user.id], "run");
        return { secret, provisioningUri: provisioningUri(secret, user.email ?? user.id) };
      });
    },

    async confirmMfa(req) {
      const principal = requireUser();
      const v = violations();
      if (v.check(req.code.length > 0, "code", "is required")) v.check(/^[0-9]{6}$/.test(req.code), "code", "must be 6 digits");
      v.throwIfAny();
      const outcome = await database.transaction(async (em) => {
        const user = await findUser(em, principal.subject, true);
        if (!user) throw new NotFoundError("user not found", { reason: "USER_NOT_FOUND" });
        if (user.mfa_enabled_at) throw new FailedPreconditionError("MFA is enabled already", { reason: "MFA_ENABLED" });
        if (!user.mfa_pending_secret) throw new FailedPreconditionError("no MFA enrolment is pending; call EnrollMfa first", { reason: "NO_PENDING_ENROLMENT" });
        const step = matchTotp(secretBox.open(user.mfa_pending_secret), req.code);
        if (step === undefined) return undefined;
        const codes = newRecoveryCodes();
        await em.execute(
          "update users set mfa_secret = mfa_pending_secret, mfa_pending_secret = null, mfa_enabled_at = now(), mfa_last_step = ?, version = version + 1, updated_at = now() where id = ?",
          [step, user.id],
          "run",
        );
        await em.execute("delete from recovery_codes where user_id = ?", [user.id], "run");
        for (const code of codes) await em.execute("insert into recovery_codes (user_id, code_hash) values (?, ?)", [user.id, recoveryCodeHash(code)], "run");
        return codes;
      });
      if (!outcome) throw new UnauthenticatedError("code: is wrong", { reason: "INVALID_MFA_CODE" });
      return { recoveryCodes: outcome };
    },

    async disableMfa(req, ctx) {
      const principal = requireUser();
      const v = violations();
      v.check(req.password.length > 0, "password", "is required");
      v.check(req.password.length <= PASSWORD_MAX_LENGTH * 4, "password", "is too long");
      checkSecondFactor(v, req.code, req.recoveryCode);
      v.throwIfAny();
      const user = await findUser(database.em(), principal.subject);
      if (!user) throw new NotFoundError("user not found", { reason: "USER_NOT_FOUND" });
      if (!user.mfa_enabled_at) throw new FailedPreconditionError("MFA is not enabled", { reason: "MFA_NOT_ENABLED" });
      await reauthenticate(user, req.password, ctx, "password");
      const ok = await database.transaction(async (em) => {
        const locked = await findUser(em, user.id, true);
        if (!locked || !(await consumeSecondFactor(em, locked, req.code, req.recoveryCode))) return false;
        await em.execute(
          "update users set mfa_secret = null, mfa_pending_secret = null, mfa_enabled_at = null, version = version + 1, updated_at = now() where id = ?",
          [user.id],
          "run",
        );
        await em.execute("delete from recovery_codes where user_id = ?", [user.id], "run");
        return true;
      });
      if (!ok) throw new UnauthenticatedError(req.code ? "code: is wrong or already used" : "recovery_code: is wrong or already used", { reason: "INVALID_MFA_CODE" });
      return {};
    },

    async createAddress(req) {
      return { address: await addresses.createAddress(req.userId, req.address) };
    },

    async listAddresses(req) {
      return { addresses: await addresses.listAddresses(req.userId) };
    },

    async updateAddress(req) {
      return { address: await addresses.updateAddress(req.address, req.updateMask?.paths ?? []) };
    },

    async deleteAddress(req) {
      await addresses.deleteAddress(req.userId, req.addressId);
      return {};
    },

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
        deps.logger.info({ userId: user.id, roles, by: principal.subject }, "roles changed");
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
