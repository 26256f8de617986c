// TOTP MFA of the signed-in user: enrolment (a pending secret), confirmation with a first code (which
// turns MFA on and hands out recovery codes), and turning it off (password and a second factor).
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { FailedPreconditionError, publish, requireUser, sql, UnauthenticatedError, violations, type Database } from "@bazaar/platform";
import { MfaDisabledSchema, MfaEnabledSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import type { SecretBox } from "./crypto.ts";
import { matchTotp, newRecoveryCodes, newTotpSecret, provisioningUri, recoveryCodeHash } from "./mfa.ts";
import { PASSWORD_MAX_LENGTH } from "./passwords.ts";
import type { Reauthenticate } from "./reauthentication.ts";
import { checkSecondFactor, wrongSecondFactor, type SecondFactor } from "./second-factor.ts";
import { changeUser, findUser, loadOwnAccount, tables } from "./users.ts";

export interface MfaHandlerDeps {
  database: Database;
  secretBox: SecretBox;
  secondFactor: SecondFactor;
  reauthenticate: Reauthenticate;
}

export function mfaHandlers(deps: MfaHandlerDeps): Pick<ServiceImpl<typeof IdentityService>, "enrollMfa" | "confirmMfa" | "disableMfa"> {
  const { database, secretBox, secondFactor, reauthenticate } = deps;
  return {
    async enrollMfa() {
      const principal = requireUser();
      return database.transaction(async (em) => {
        const user = await loadOwnAccount(em, principal.subject, true);
        if (user.mfa_enabled_at) throw new FailedPreconditionError("MFA is enabled already; disable it first", { reason: "MFA_ENABLED" });
        const secret = newTotpSecret();
        await tables(em).updateTable("users").set({ mfa_pending_secret: secretBox.seal(secret) }).where("id", "=", user.id).execute();
        return { secret, provisioningUri: provisioningUri(secret, user.email ?? user.id) };
      });
    },

    async confirmMfa(req) {
      const principal = requireUser();
      const v = violations();
      if (v.check(req.code.length > 0, "code", "is required")) v.check(/^[0-9]{6}$/.test(req.code), "code", "must be 6 digits");
      v.throwIfAny();
      const outcome = await database.transaction(async (em) => {
        const user = await loadOwnAccount(em, principal.subject, true);
        if (user.mfa_enabled_at) throw new FailedPreconditionError("MFA is enabled already", { reason: "MFA_ENABLED" });
        if (!user.mfa_pending_secret) throw new FailedPreconditionError("no MFA enrolment is pending; call EnrollMfa first", { reason: "NO_PENDING_ENROLMENT" });
        const step = matchTotp(secretBox.open(user.mfa_pending_secret), req.code);
        if (step === undefined) return undefined;
        const codes = newRecoveryCodes();
        await changeUser(em, user.id)
          .set((eb) => ({ mfa_secret: eb.ref("mfa_pending_secret"), mfa_pending_secret: null, mfa_enabled_at: sql<Date>`now()`, mfa_last_step: step }))
          .execute();
        await tables(em).deleteFrom("recovery_codes").where("user_id", "=", user.id).execute();
        await tables(em)
          .insertInto("recovery_codes")
          .values(codes.map((code) => ({ user_id: user.id, code_hash: recoveryCodeHash(code) })))
          .execute();
        // The account holder hears of it (a security notice), in case it was not them.
        await publish(em, MfaEnabledSchema, create(MfaEnabledSchema, { userId: user.id }));
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
      const user = await loadOwnAccount(database.em(), principal.subject);
      if (!user.mfa_enabled_at) throw new FailedPreconditionError("MFA is not enabled", { reason: "MFA_NOT_ENABLED" });
      await reauthenticate(user, req.password, ctx, "password");
      const ok = await database.transaction(async (em) => {
        const locked = await findUser(em, user.id, true);
        if (!locked || !(await secondFactor.consume(em, locked, req.code, req.recoveryCode))) return false;
        await changeUser(em, user.id).set({ mfa_secret: null, mfa_pending_secret: null, mfa_enabled_at: null }).execute();
        await tables(em).deleteFrom("recovery_codes").where("user_id", "=", user.id).execute();
        await publish(em, MfaDisabledSchema, create(MfaDisabledSchema, { userId: user.id }));
        return true;
      });
      if (!ok) throw wrongSecondFactor(req.code);
      return {};
    },
  };
}
