// The field rules of the contracts, defined once for every service (issue 13). Each proto comment that
// states a format ("a UUID", "ISO 3166-1 alpha-2", "+ and 6–15 digits") means the rule here; handlers
// keep only the rules that need state. Every check records its violation on `field` and returns whether
// the value was fine, so callers can skip dependent checks and report everything at once.
import countries from "i18n-iso-countries";
import type { PostalAddress } from "@bazaar/contracts/bazaar/type/v1/postal_address_pb";
import type { Violations } from "./errors-interceptor.ts";

// Canonical 8-4-4-4-12 hex. The RFC variant bits are not required: PostgreSQL's uuid type does not
// require them either, so an id that fails here could never be stored.
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The catalog's SKU: 1–64 of A–Z, 0–9, '.', '_', '-', starting with a letter or digit.
const skuPattern = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
// Practical address syntax: one @, a dot in the domain, no spaces, quotes, brackets or control characters.
const emailPattern = /^[^\s@"<>()[\]\\,;:]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
// E.164: "+", no leading zero, 6–15 digits in all.
const phonePattern = /^\+[1-9][0-9]{5,14}$/;
const currencyPattern = /^[A-Z]{3}$/;
// A payment gateway token. Digits-only card numbers, spaces and dashes never match, so a PAN typed into
// the wrong field is refused before it is stored, logged or sent anywhere.
const paymentMethodPattern = /^pm_[A-Za-z0-9_]{1,250}$/;
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

export const EMAIL_MAX_LENGTH = 254;

export const isUuid = (value: string): boolean => uuidPattern.test(value);
export const isSku = (value: string): boolean => skuPattern.test(value);
/** An address as the rule reads it: callers normalise (trim, lower-case) first where they store it. */
export const isEmail = (value: string): boolean => value.length <= EMAIL_MAX_LENGTH && emailPattern.test(value);
export const isPhone = (value: string): boolean => phonePattern.test(value);
/** An assigned ISO 3166-1 alpha-2 code in upper case (the i18n-iso-countries list: `XX` or `UK` are not). */
export const isCountryCode = (value: string): boolean => /^[A-Z]{2}$/.test(value) && countries.isValid(value);
export const isCurrencyCode = (value: string): boolean => currencyPattern.test(value);
export const hasControlCharacters = (value: string): boolean => controlCharacters.test(value);

/** A required UUID. */
export function checkUuid(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(isUuid(value), field, "must be a UUID");
}

/**
 * A required UUID id, returned in lower case (as PostgreSQL prints a uuid), so that ids compare and key
 * the same whichever case the caller sent; check `v` before using the value.
 */
export function checkId(v: Violations, field: string, value: string): string {
  checkUuid(v, field, value);
  return value.toLowerCase();
}

/** A required SKU. */
export function checkSku(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(isSku(value), field, "must be 1–64 of A–Z, 0–9, '.', '_' and '-', starting with a letter or digit");
}

/** An email address; empty is allowed unless `required`. */
export function checkEmail(v: Violations, field: string, value: string, options: { required?: boolean } = {}): boolean {
  if (value === "") return v.check(!options.required, field, "is required");
  if (!v.check(value.length <= EMAIL_MAX_LENGTH, field, `must be at most ${EMAIL_MAX_LENGTH} characters`)) return false;
  return v.check(emailPattern.test(value), field, "is not a valid email address");
}

/** A phone number in E.164, or empty. */
export function checkPhone(v: Violations, field: string, value: string): boolean {
  return value === "" || v.check(isPhone(value), field, 'must be "+" and 6 to 15 digits (E.164), or empty');
}

/** A required ISO 3166-1 alpha-2 country code (upper case). */
export function checkCountryCode(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(isCountryCode(value), field, "must be an ISO 3166-1 alpha-2 country code such as DE");
}

/** A required ISO 4217 currency code (upper case). */
export function checkCurrencyCode(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(isCurrencyCode(value), field, "must be an ISO 4217 code in upper case, e.g. EUR");
}

/** A required payment gateway token; the description never repeats the value (it may be a card number). */
export function checkPaymentMethod(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(paymentMethodPattern.test(value), field, 'must be a gateway token: "pm_" and 1–250 letters, digits or "_" (card numbers are never accepted)');
}

export interface TextRule {
  /** 0: may be empty; ≥ 1: required (blank counts as empty). */
  min: number;
  max: number;
  /** Count code points rather than UTF-16 units (names and addresses: what a person counts). */
  codePoints?: boolean;
  /** Characters allowed although they are control characters, e.g. "\n\t" in notes. */
  allow?: string;
}

/** Free text: required when `min` > 0, bounded, no control characters. */
export function checkText(v: Violations, field: string, value: string, rule: TextRule): boolean {
  const blank = value.trim() === "";
  if (rule.min > 0 && blank) return v.check(false, field, "is required");
  const length = rule.codePoints ? [...value].length : value.length;
  if (!blank && length < rule.min) return v.check(false, field, `must be at least ${rule.min} characters`);
  if (!v.check(length <= rule.max, field, `must be at most ${rule.max} characters`)) return false;
  const checked = rule.allow ? [...rule.allow].reduce((text, c) => text.replaceAll(c, ""), value) : value;
  return v.check(!hasControlCharacters(checked), field, "must not contain control characters");
}

export interface PageSizeRule {
  /** What 0 (unset) means. */
  default: number;
  max: number;
}

/** page_size: 0 → the default; 1…max; anything else is a violation. Returns the effective size. */
export function checkPageSize(v: Violations, value: number, rule: PageSizeRule, field = "page_size"): number {
  if (value === 0) return rule.default;
  v.check(value > 0 && value <= rule.max, field, `must be between 1 and ${rule.max} (0 for the default ${rule.default})`);
  return value;
}

/**
 * An update mask: at least one path, each one of `editable`. Returns the paths without repeats. The
 * description quotes at most 50 characters of an unknown path and at most 10 unknown paths are named.
 */
export function checkUpdateMask(v: Violations, paths: readonly string[], editable: readonly string[], field = "update_mask"): string[] {
  const unique = [...new Set(paths)];
  if (!v.check(unique.length > 0, field, `must name at least one field (${editable.join(", ")})`)) return unique;
  const unknown = unique.filter((path) => !editable.includes(path));
  for (const path of unknown.slice(0, 10)) v.add(field, `unknown path "${path.slice(0, 50)}" (${editable.join(", ")})`);
  return unique;
}

type PostalAddressFields = Omit<PostalAddress, "$typeName" | "$unknown">;

// PostalAddress's bounds, as its proto comments state them.
const postalTextRules = {
  recipient_name: { key: "recipientName", rule: { min: 1, max: 100, codePoints: true } },
  line1: { key: "line1", rule: { min: 1, max: 200, codePoints: true } },
  line2: { key: "line2", rule: { min: 0, max: 200, codePoints: true } },
  city: { key: "city", rule: { min: 1, max: 100, codePoints: true } },
  region: { key: "region", rule: { min: 0, max: 100, codePoints: true } },
  postal_code: { key: "postalCode", rule: { min: 1, max: 20, codePoints: true } },
} as const satisfies Record<string, { key: keyof PostalAddressFields; rule: TextRule }>;

/** The proto field names of bazaar.type.v1.PostalAddress (also the fields of identity's Address). */
export type PostalAddressPath = keyof typeof postalTextRules | "country_code" | "phone";
export const postalAddressPaths: readonly PostalAddressPath[] = [...(Object.keys(postalTextRules) as Array<keyof typeof postalTextRules>), "country_code", "phone"];

/**
 * One field of a postal address (`path` a proto field name): its rule, and its normalised value
 * (text trimmed, country code trimmed and upper-cased), or undefined if it broke the rule.
 */
export function checkPostalAddressField(v: Violations, prefix: string, path: PostalAddressPath, address: PostalAddressFields): string | undefined {
  const field = `${prefix}.${path}`;
  if (path === "country_code") {
    const code = address.countryCode.trim().toUpperCase();
    return checkCountryCode(v, field, code) ? code : undefined;
  }
  if (path === "phone") return checkPhone(v, field, address.phone) ? address.phone : undefined;
  const { key, rule } = postalTextRules[path];
  const value = address[key].trim();
  return checkText(v, field, value, rule) ? value : undefined;
}

/** A required bazaar.type.v1.PostalAddress at `field`, every field checked; returns it normalised. */
export function checkPostalAddress(v: Violations, field: string, address: PostalAddressFields | undefined): PostalAddressFields | undefined {
  if (!v.check(address, field, "is required")) return undefined;
  const a = address!;
  const value = (path: PostalAddressPath) => checkPostalAddressField(v, field, path, a);
  const checked = {
    recipientName: value("recipient_name"),
    line1: value("line1"),
    line2: value("line2"),
    city: value("city"),
    region: value("region"),
    postalCode: value("postal_code"),
    countryCode: value("country_code"),
    phone: value("phone"),
  };
  return Object.values(checked).every((x) => x !== undefined) ? (checked as PostalAddressFields) : undefined;
}
