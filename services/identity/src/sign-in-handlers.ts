// Sign-in: email and password (throttled per account and per client address), then for an MFA account
// a short-lived challenge completed with a second factor; either way a new session and its tokens.
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { checkEmail, PermissionDeniedError, sql, UnauthenticatedError, violations, type Database } from "@bazaar/platform";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { randomToken, tokenHash } from "./crypto.ts";
import { clientAddress, type LoginThrottle } from "./login-throttle.ts";
import { PASSWORD_MAX_LENGTH, type PasswordHasher } from "./passwords.ts";
import { checkSecondFactor, wrongSecondFactor, type SecondFactor } from "./second-factor.ts";
import type { DeviceInfo, Sessions } from "./sessions.ts";
import { findUser, findUserByEmail, tables } from "./users.ts";
import { normaliseEmail, TOKEN_MAX } from "./validation.ts";

export interface SignInHandlerDeps {
  database: Database;
  sessions: Sessions;
  throttle: LoginThrottle;
  hasher: PasswordHasher;
  secondFactor: SecondFactor;
}

const MFA_CHALLENGE_TTL_SECONDS = 5 * 60;
const MFA_CHALLENGE_MAX_FAILURES = 5;
const USER_AGENT_MAX = 256;

const invalidCredentials = () => new UnauthenticatedError("email or password is wrong", { reason: "INVALID_CREDENTIALS" });
const accountDisabled = () => new PermissionDeniedError("the account is disabled", { reason: "ACCOUNT_DISABLED" });

/** The device a session is started for, as the caller's headers describe it. */
function device(ctx: HandlerContext): DeviceInfo {
  return {
    userAgent: (ctx.requestHeader.get("user-agent") ?? "").slice(0, USER_AGENT_MAX),
    ipAddress: clientAddress(ctx.requestHeader),
  };
}

export function signInHandlers(deps: SignInHandlerDeps): Pick<ServiceImpl<typeof IdentityService>, "login" | "completeMfaLogin"> {
  const { database, sessions, throttle, hasher, secondFactor } = deps;
  return {
    async login(req, ctx) {
      const email = normaliseEmail(req.email);
      const v = violations();
      checkEmail(v, "email", email, { required: true });
      if (v.check(req.password.length > 0, "password", "is required")) {
        v.check(req.password.length <= PASSWORD_MAX_LENGTH * 4, "password", `must be at most ${PASSWORD_MAX_LENGTH} characters`);
      }
      v.throwIfAny();
      const dev = device(ctx);
      const keys = throttle.keysFor(email, dev.ipAddress);
      // Counted before verifying (committed), so concurrent guesses cannot all pass one check.
      await database.transaction((em) => throttle.attempt(em, keys));
      const user = await findUserByEmail(database.em(), email);
      // Unknown email and wrong password: the same error after the same argon2 work.
      if (!(await hasher.verify(user?.password_hash, req.password)) || !user) {
        await database.transaction((em) => throttle.failed(em, keys));
        throw invalidCredentials();
      }
      if (user.disabled_at) throw accountDisabled();
      return database.transaction(async (em) => {
        await throttle.succeeded(em, keys);
        if (user.mfa_enabled_at) {
          const challenge = randomToken();
          await tables(em)
            .insertInto("mfa_challenges")
            .values({
              token_hash: tokenHash(challenge),
              user_id: user.id,
              session_user_agent: dev.userAgent,
              session_ip_address: dev.ipAddress,
              expires_at: sql<Date>`now() + make_interval(secs => ${MFA_CHALLENGE_TTL_SECONDS})`,
            })
            .execute();
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
        const updateChallenge = tables(em).updateTable("mfa_challenges").where("token_hash", "=", tokenHash(req.mfaChallenge));
        const challenge = await tables(em)
          .selectFrom("mfa_challenges")
          .select(["user_id", "session_user_agent", "session_ip_address"])
          .where("token_hash", "=", tokenHash(req.mfaChallenge))
          .where("used_at", "is", null)
          .where("expires_at", ">", sql<Date>`now()`)
          .where("failures", "<", MFA_CHALLENGE_MAX_FAILURES)
          .forUpdate()
          .executeTakeFirst();
        if (!challenge) return { kind: "invalid" } as const;
        const user = await findUser(em, challenge.user_id, true);
        if (!user || !user.mfa_enabled_at) return { kind: "invalid" } as const;
        const keys = throttle.keysFor(user.email!, ip);
        // Counted before the code is checked, in this transaction: the challenge row is locked, so
        // attempts on one challenge are serial anyway.
        await throttle.attempt(em, keys);
        if (!(await secondFactor.consume(em, user, req.code, req.recoveryCode))) {
          await updateChallenge.set((eb) => ({ failures: eb("failures", "+", 1) })).execute();
          await throttle.failed(em, keys);
          return { kind: "wrong-code" } as const;
        }
        await throttle.succeeded(em, keys);
        if (user.disabled_at) return { kind: "disabled" } as const;
        await updateChallenge.set({ used_at: sql<Date>`now()` }).execute();
        const tokens = await sessions.start(em, user.id, user.roles, { userAgent: challenge.session_user_agent, ipAddress: challenge.session_ip_address });
        return { kind: "ok", tokens } as const;
      });
      switch (outcome.kind) {
        case "ok":
          return { tokens: outcome.tokens };
        case "wrong-code":
          throw wrongSecondFactor(req.code);
        case "disabled":
          throw accountDisabled();
        default:
          throw new UnauthenticatedError("mfa_challenge: is invalid, used or expired; sign in again", { reason: "INVALID_MFA_CHALLENGE" });
      }
    },
  };
}
