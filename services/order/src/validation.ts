// Request bounds of the order RPCs. Every violation names the field path it is about, all at once.
import { isUuid, violations, type Violations } from "@bazaar/platform";
import type { PostalAddress } from "@bazaar/contracts/bazaar/type/v1/postal_address_pb";
import type { AddressSnapshot } from "./orders.ts";

export { violations, type Violations };

export const MAX_KEY_LENGTH = 255;
export const MAX_NOTE_LENGTH = 500;

// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;
const paymentMethodPattern = /^pm_[A-Za-z0-9_]{1,250}$/;
const emailPattern = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const countryPattern = /^[A-Z]{2}$/;
const phonePattern = /^\+[0-9]{6,15}$/;
const currencyPattern = /^[A-Z]{3}$/;


export function checkUuid(v: Violations, field: string, id: string): boolean {
  if (!v.check(id !== "", field, "is required")) return false;
  return v.check(isUuid(id), field, "must be a UUID");
}

function checkText(v: Violations, field: string, value: string, min: number, max: number): void {
  if (min > 0 && !v.check(value.trim() !== "", field, "is required")) return;
  v.check(value.length <= max, field, `must be at most ${max} characters`);
  v.check(!controlCharacters.test(value), field, "must not contain control characters");
}

export function checkIdempotencyKey(v: Violations, key: string): void {
  if (!v.check(key !== "", "idempotency_key", "is required")) return;
  v.check(key.length <= MAX_KEY_LENGTH, "idempotency_key", `must be at most ${MAX_KEY_LENGTH} characters`);
  v.check(!controlCharacters.test(key), "idempotency_key", "must not contain control characters");
}

/** A shipping address: every field of PostalAddress's bounds; returns the trimmed snapshot. */
export function checkAddress(v: Violations, field: string, address: PostalAddress | undefined): AddressSnapshot | undefined {
  if (!v.check(address, field, "is required")) return undefined;
  const a = address!;
  checkText(v, `${field}.recipient_name`, a.recipientName, 1, 100);
  checkText(v, `${field}.line1`, a.line1, 1, 200);
  checkText(v, `${field}.line2`, a.line2, 0, 200);
  checkText(v, `${field}.city`, a.city, 1, 100);
  checkText(v, `${field}.region`, a.region, 0, 100);
  checkText(v, `${field}.postal_code`, a.postalCode, 1, 20);
  v.check(countryPattern.test(a.countryCode), `${field}.country_code`, "must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE");
  v.check(a.phone === "" || phonePattern.test(a.phone), `${field}.phone`, 'must be "+" and 6–15 digits, or empty');
  return {
    recipientName: a.recipientName.trim(),
    line1: a.line1.trim(),
    line2: a.line2.trim(),
    city: a.city.trim(),
    region: a.region.trim(),
    postalCode: a.postalCode.trim(),
    countryCode: a.countryCode,
    phone: a.phone,
  };
}

export function checkPaymentMethod(v: Violations, method: string): void {
  if (!v.check(method !== "", "payment_method", "is required")) return;
  v.check(paymentMethodPattern.test(method), "payment_method", 'must be a gateway token: "pm_" and 1–250 letters, digits or "_"');
}

/** An email as given; "" stays "" (the caller decides whether it is required). Returns it normalised. */
export function checkEmail(v: Violations, field: string, email: string): string {
  const normalised = email.trim().toLowerCase();
  if (normalised === "") return "";
  v.check(normalised.length <= 254 && emailPattern.test(normalised), field, "must be an email address");
  return normalised;
}

export function checkCurrency(v: Violations, field: string, code: string): boolean {
  return v.check(currencyPattern.test(code), field, "must be an ISO 4217 code in upper case, e.g. EUR");
}

export function checkNote(v: Violations, field: string, note: string): void {
  v.check(note.length <= MAX_NOTE_LENGTH, field, `must be at most ${MAX_NOTE_LENGTH} characters`);
  v.check(!controlCharacters.test(note.replace(/[\n\t]/g, "")), field, "must not contain control characters");
}

/** A page size: 0 → `fallback`, else 1..max. */
export function checkPageSize(v: Violations, pageSize: number, fallback: number, max: number): number {
  if (pageSize === 0) return fallback;
  v.check(pageSize > 0 && pageSize <= max, "page_size", `must be between 1 and ${max}`);
  return pageSize;
}

