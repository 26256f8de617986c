// Password hashing (argon2id, OWASP minimum m = 19 MiB, t = 2, p = 1) and the password policy.
import { hash, verify } from "@node-rs/argon2";
import type { Violations } from "@bazaar/platform";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Whether `password` matches `stored`; with no stored hash it still spends the same time (no user enumeration by timing). */
  verify(stored: string | null | undefined, password: string): Promise<boolean>;
}

export function createPasswordHasher(options: { memoryKib: number; timeCost: number }): PasswordHasher {
  const params = { memoryCost: options.memoryKib, timeCost: options.timeCost, parallelism: 1 };
  // A hash of nothing anyone knows, verified against when the account does not exist.
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => hash(password, params),
    async verify(stored, password) {
      if (!stored) {
        dummy ??= hash(`no-such-account-${Math.random()}`, params);
        await verify(await dummy, password).catch(() => false);
        return false;
      }
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
  };
}

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;

// The most common passwords of at least 10 characters (shorter ones fail the length rule anyway),
// from the public breach-frequency lists; compared case-insensitively.
const COMMON = new Set(
  [
    "1234567890", "0123456789", "12345678910", "123456789a", "1234567890a", "qwertyuiop", "qwertyuiop1",
    "1q2w3e4r5t", "1q2w3e4r5t6y", "1qaz2wsx3edc", "zaq12wsxcde3", "password12", "password123", "password1234",
    "password12345", "passw0rd123", "p@ssw0rd123", "iloveyou12", "iloveyou123", "qwerty1234", "qwerty12345",
    "qwerty123456", "asdfghjkl1", "asdfghjkl123", "abcdefghij", "abcd123456", "abc1234567", "1111111111",
    "0000000000", "2222222222", "5555555555", "9999999999", "1231231231", "123123123123", "12341234",
    "1234512345", "123qweasdzxc", "qweasdzxc123", "football123", "baseball123", "superman123", "princess123",
    "sunshine123", "starwars123", "welcome123", "letmein123", "monkey12345", "dragon12345", "trustno1234",
    "changeme123", "administrator", "admin12345", "admin123456", "welcome2024", "welcome2025", "welcome2026",
    "password2024", "password2025", "password2026", "summer2024!", "qwertyuiopasdfghjkl", "michael123",
    "jennifer123", "computer123", "internet123", "whatever123", "liverpool123", "chelsea1234", "pokemon1234",
    "shadow12345", "master12345", "killer12345", "charlie1234", "secret1234", "mustang1234", "samsung1234",
    "passwordpassword", "bazaar12345", "bazaarpassword",
  ].map((p) => p.toLowerCase()),
);

/** What is wrong with `password` for an account with `email`, or undefined when it is acceptable. */
export function passwordProblem(password: string, email: string): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || /^(.)\1+$/.test(password)) return "is too common; choose a less predictable password";
  const local = email.split("@", 1)[0] ?? "";
  if ((local.length >= 3 && lower.includes(local)) || (email.length > 0 && lower.includes(email))) return "must not contain the email address";
  return undefined;
}

/** Adds the password policy's objection to `password` (a new password for `email`), if any, as a violation of `field`. */
export function checkNewPassword(v: Violations, password: string, email: string, field: string): void {
  const problem = passwordProblem(password, email);
  if (problem) v.add(field, problem);
}
