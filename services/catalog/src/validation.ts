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

/** The pg error code and constraint of a driver error, if it is one. */
export function pgError(error: unknown): { code?: string; constraint?: string } {
  let e: unknown = error;
  for (let i = 0; i < 4 && e; i++) {
    const candidate = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof candidate.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return { code: candidate.code, constraint: typeof candidate.constraint === "string" ? candidate.constraint : undefined };
    }
    e = candidate.cause;
  }
  return {};
}

/**
 * A PostgreSQL array literal of `values`, for a `?::text[]` / `?::uuid[]` parameter (MikroORM's
 * execute() expands JS arrays into lists of placeholders, so arrays travel as literals).
 */
export function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}

/** A timestamptz as the driver returns it (MikroORM leaves them as strings). */
export const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
