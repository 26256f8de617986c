// Small checks shared by the catalog's request validation (the bounds are the contract's).
import type { Violations } from "@bazaar/platform";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const SKU = /^[A-Z0-9][A-Z0-9._-]{0,63}$/;
export const CURRENCY = /^[A-Z]{3}$/;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PRICE_MINOR = 1_000_000_000_000n;

export const isUuid = (value: string) => UUID.test(value);

/** Checks a required UUID field; returns whether it is fine. */
export function checkId(v: Violations, value: string, field: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(isUuid(value), field, "must be a UUID");
}

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

/** page_size: 0 → default; 1…100; anything else is invalid. */
export function pageSize(v: Violations, value: number, field = "page_size"): number {
  v.check(value >= 0 && value <= MAX_PAGE_SIZE, field, `must be between 1 and ${MAX_PAGE_SIZE} (0 for the default ${DEFAULT_PAGE_SIZE})`);
  return value === 0 ? DEFAULT_PAGE_SIZE : value;
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
