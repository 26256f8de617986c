// Inventory's own request bounds; the shared field rules (UUID, SKU, page size, text) are the platform's.
import { checkText, hasControlCharacters, violations, type PageSizeRule, type Violations } from "@bazaar/platform";
import type { Duration } from "@bufbuild/protobuf/wkt";

export const DEFAULT_LOCATION = "default";
export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 1_000_000n;
export const MAX_STOCK_QUANTITY = 1_000_000_000n;
export const MAX_BATCH_SKUS = 100;
export const PAGE_SIZE: PageSizeRule = { default: 50, max: 500 };
export const MAX_NOTE_LENGTH = 500;
export const DEFAULT_TTL_MS = 15 * 60_000;
export const MIN_TTL_MS = 1000;
export const MAX_TTL_MS = 24 * 3_600_000;

const locationPattern = /^[A-Za-z0-9._/-]{1,64}$/;

export { violations, type Violations };

/** A location; empty means "default". Returns the effective location. */
export function checkLocation(v: Violations, field: string, location: string): string {
  if (location === "") return DEFAULT_LOCATION;
  v.check(locationPattern.test(location), field, "must be 1–64 letters, digits, '.', '_', '-' or '/'");
  return location;
}

export function checkQuantity(v: Violations, field: string, quantity: bigint, max: bigint): boolean {
  if (!v.check(quantity > 0n, field, "must be positive")) return false;
  return v.check(quantity <= max, field, `must be at most ${max}`);
}

export function checkNote(v: Violations, field: string, note: string): void {
  checkText(v, field, note, { min: 0, max: MAX_NOTE_LENGTH, allow: "\n\t" });
}

export function checkReference(v: Violations, field: string, reference: string): void {
  if (!v.check(reference !== "", field, "is required")) return;
  v.check(reference.length <= 128, field, "must be at most 128 characters");
  v.check(!hasControlCharacters(reference), field, "must not contain control characters");
}

/** A TTL in ms from an optional Duration (unset → 15 minutes). */
export function checkTtl(v: Violations, field: string, ttl: Duration | undefined): number {
  if (!ttl) return DEFAULT_TTL_MS;
  const ms = Number(ttl.seconds) * 1000 + Math.floor(ttl.nanos / 1_000_000);
  v.check(ms >= MIN_TTL_MS && ms <= MAX_TTL_MS, field, "must be between 1 second and 24 hours");
  return ms;
}
