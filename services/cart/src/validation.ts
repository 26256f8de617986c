// Request checks with the contract's bounds; every violation names its field.
import type { Violations } from "@bazaar/platform";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The catalog's SKU format: a cart only holds what the catalog can sell. */
export const SKU = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 999;
export const MAX_REGION_LENGTH = 100;
export const MAX_POSTAL_CODE_LENGTH = 20;

const regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
// Codes ICU names that are not countries: user-assigned (AA, QM–QZ, XA–XZ, ZZ) and reserved ones (EU, UK, …).
const notCountries = /^(AA|ZZ|EU|EZ|UN|UK|Q[M-Z]|X[A-Z])$/;

/** An assigned ISO 3166-1 alpha-2 code (upper case). */
export const isCountry = (code: string) => /^[A-Z]{2}$/.test(code) && !notCountries.test(code) && regionNames.of(code) !== undefined;

export function checkUuid(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(UUID.test(value), field, "must be a UUID");
}

export function checkSku(v: Violations, field: string, sku: string): boolean {
  if (!v.check(sku !== "", field, "is required")) return false;
  return v.check(SKU.test(sku), field, "must be 1–64 of A–Z, 0–9, '.', '_' and '-', starting with a letter or digit");
}

export function checkQuantity(v: Violations, field: string, quantity: number, min: 0 | 1): boolean {
  return v.check(Number.isInteger(quantity) && quantity >= min && quantity <= MAX_LINE_QUANTITY, field, `must be between ${min} and ${MAX_LINE_QUANTITY}`);
}

export function checkCountry(v: Violations, field: string, country: string): boolean {
  if (!v.check(country !== "", field, "is required")) return false;
  return v.check(isCountry(country), field, "must be an ISO 3166-1 alpha-2 country code such as US");
}
