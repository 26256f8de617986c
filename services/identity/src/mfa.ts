// TOTP (RFC 6238) through otpauth: 6 digits, 30 s, SHA-1 (what authenticator apps support), one step
// of clock drift either way; a code is accepted once (the last used step is remembered).
import { Secret, TOTP } from "otpauth";
import { randomBytes } from "node:crypto";
import { tokenHash } from "./crypto.ts";

const PERIOD = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function provisioningUri(secret: string, email: string): string {
  return totp(secret, email).toString();
}

function totp(secret: string, label = "account"): TOTP {
  return new TOTP({ issuer: "Bazaar", label, algorithm: "SHA1", digits: 6, period: PERIOD, secret: Secret.fromBase32(secret) });
}

/** The time step `code` belongs to when it is valid now (±1 step), else undefined. */
export function matchTotp(secret: string, code: string, now = Date.now()): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 1000 / PERIOD) + delta;
}

/** A current code (tests and tools). */
export function currentTotp(secret: string, now = Date.now()): string {
  return totp(secret).generate({ timestamp: now });
}

const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** Ten recovery codes like "k7mq-x2p9-w4hd" (about 70 bits each). */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(12);
    const chars = [...bytes].map((b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join("");
    return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
  });
}

export function recoveryCodeHash(code: string): string {
  return tokenHash(code.trim().toLowerCase().replaceAll(" ", ""));
}
