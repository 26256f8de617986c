// The catalog's own checks and bounds; the shared field rules (UUID, SKU, currency, page size,
// update mask) are the platform's.
import type { PageSizeRule, Violations } from "@bazaar/platform";

export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const PAGE_SIZE: PageSizeRule = { default: 20, max: 100 };
export const MAX_PRICE_MINOR = 1_000_000_000_000n;

export function checkText(v: Violations, value: string, field: string, min: number, max: number): boolean {
  if (min > 0 && value.trim() === "") return v.check(false, field, "is required");
  return v.check([...value].length <= max, field, `must be at most ${max} characters`);
}

export function checkSlug(v: Violations, value: string, field: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(value.length <= 120 && SLUG.test(value), field, "must be 1–120 of a–z, 0–9 and single hyphens");
}

export function isHttpsUrl(value: string): boolean {
  if (value.length > 2048) return false;
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.hostname !== "" && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

/** Version → etag and back. */
export const etagOf = (version: number) => `"${version}"`;
