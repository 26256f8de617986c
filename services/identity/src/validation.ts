// Request-field rules shared by the handlers. Everything a request carries has a bound.
import type { Violations } from "@bazaar/platform";

export const EMAIL_MAX = 254;
export const TOKEN_MAX = 200;
export const NAME_MAX = 100;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
// Practical address syntax: one @, a dot in the domain, no spaces or control characters.
const emailPattern = /^[^\s@"<>()[\]\\,;:]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const phonePattern = /^\+[1-9][0-9]{5,14}$/;

export function normaliseEmail(email: string): string {
  return email.normalize("NFC").trim().toLowerCase();
}

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** Checks `email` (already normalised) and records a violation on `field`. */
export function checkEmail(v: Violations, email: string, field = "email"): boolean {
  if (!v.check(email.length > 0, field, "is required")) return false;
  if (!v.check(email.length <= EMAIL_MAX, field, `must be at most ${EMAIL_MAX} characters`)) return false;
  return v.check(emailPattern.test(email), field, "is not a valid email address");
}

export function checkUuid(v: Violations, value: string, field: string): boolean {
  if (!v.check(value.length > 0, field, "is required")) return false;
  return v.check(value.length <= 36 && isUuid(value), field, "must be a UUID");
}

export function checkLength(v: Violations, value: string, field: string, min: number, max: number): boolean {
  const length = [...value].length;
  if (min > 0 && !v.check(length > 0 || min === 0, field, "is required")) return false;
  if (length < min) return v.check(false, field, `must be at least ${min} characters`);
  return v.check(length <= max, field, `must be at most ${max} characters`);
}

export function checkPhone(v: Violations, value: string, field: string): boolean {
  return value === "" || v.check(phonePattern.test(value), field, 'must be "+" and 6 to 15 digits (E.164), or empty');
}

/** No control characters (names and address lines are printed on labels and emails). */
export function checkPrintable(v: Violations, value: string, field: string): boolean {
  // eslint-disable-next-line no-control-regex
  return v.check(!/[\u0000-\u001f\u007f]/.test(value), field, "must not contain control characters");
}
