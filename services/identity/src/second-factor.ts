// The second factor of an MFA account: a TOTP code (each time step accepted once) or an unused recovery
// code. Used by the MFA sign-in step and by turning MFA off.
import { sql, UnauthenticatedError, type EntityManager, type Violations } from "@bazaar/platform";
import type { SecretBox } from "./crypto.ts";
import { matchTotp, recoveryCodeHash } from "./mfa.ts";
import { tables, type UserRow } from "./users.ts";

export interface SecondFactor {
  /** Whether `code` (or else `recoveryCode`) is valid for `user`; consumes it in `em`'s transaction. */
  consume(em: EntityManager, user: UserRow, code: string, recoveryCode: string): Promise<boolean>;
}

/** Exactly one of `code` (6 digits) and `recovery_code` is given. */
export function checkSecondFactor(v: Violations, code: string, recoveryCode: string): void {
  if (code === "" && recoveryCode === "") v.add("code", "is required (or give recovery_code)");
  else if (code !== "" && recoveryCode !== "") v.add("recovery_code", "give either code or recovery_code, not both");
  else if (code !== "") v.check(/^[0-9]{6}$/.test(code), "code", "must be 6 digits");
  else v.check(recoveryCode.length <= 32, "recovery_code", "must be at most 32 characters");
}

/** The answer to a second factor that `consume` refused, naming the field that was given. */
export function wrongSecondFactor(code: string): UnauthenticatedError {
  return new UnauthenticatedError(code ? "code: is wrong or already used" : "recovery_code: is wrong or already used", { reason: "INVALID_MFA_CODE" });
}

export function createSecondFactor(options: { secretBox: SecretBox }): SecondFactor {
  const { secretBox } = options;
  return {
    async consume(em, user, code, recoveryCode) {
      if (code !== "") {
        if (!user.mfa_secret) return false;
        const step = matchTotp(secretBox.open(user.mfa_secret), code);
        if (step === undefined || step <= user.mfa_last_step) return false;
        await tables(em).updateTable("users").set({ mfa_last_step: step }).where("id", "=", user.id).execute();
        return true;
      }
      const used = await tables(em)
        .updateTable("recovery_codes")
        .set({ used_at: sql<Date>`now()` })
        .where("user_id", "=", user.id)
        .where("code_hash", "=", recoveryCodeHash(recoveryCode))
        .where("used_at", "is", null)
        .returning("code_hash")
        .execute();
      return used.length === 1;
    },
  };
}
