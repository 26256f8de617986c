// Request bounds shared by the handlers. Every violation names the field it is about.
import { isUuid, violations, type Violations } from "@bazaar/platform";
import type { Duration } from "@bufbuild/protobuf/wkt";

export const DEFAULT_LOCATION = "default";
export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 1_000_000n;
export const MAX_STOCK_QUANTITY = 1_000_000_000n;
export const MAX_BATCH_SKUS = 100;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_NOTE_LENGTH = 500;
export const DEFAULT_TTL_MS = 15 * 60_000;
export const MIN_TTL_MS = 1000;
export const MAX_TTL_MS = 24 * 3_600_000;

const codePattern = /^[A-Za-z0-9._/-]{1,64}$/;
// Printable characters only: no control characters in references and notes.
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

export { violations, type Violations };

/** A SKU: 1–64 of letters, digits, '.', '_', '-', '/'. */
export function checkSku(v: Violations, field: string, sku: string): boolean {
  if (!v.check(sku !== "", field, "is required")) return false;
  return v.check(codePattern.test(sku), field, "must be 1–64 letters, digits, '.', '_', '-' or '/'");
}

/** A location; empty means "default". Returns the effective location. */
export function checkLocation(v: Violations, field: string, location: string): string {
  if (location === "") return DEFAULT_LOCATION;
  v.check(codePattern.test(location), field, "must be 1–64 letters, digits, '.', '_', '-' or '/'");
  return location;
}

export function checkQuantity(v: Violations, field: string, quantity: bigint, max: bigint): boolean {
  if (!v.check(quantity > 0n, field, "must be positive")) return false;
  return v.check(quantity <= max, field, `must be at most ${max}`);
}

export function checkNote(v: Violations, field: string, note: string): void {
  v.check(note.length <= MAX_NOTE_LENGTH, field, `must be at most ${MAX_NOTE_LENGTH} characters`);
  v.check(!controlCharacters.test(note.replace(/[\n\t]/g, "")), field, "must not contain control characters");
}

export function checkReference(v: Violations, field: string, reference: string): void {
  if (!v.check(reference !== "", field, "is required")) return;
  v.check(reference.length <= 128, field, "must be at most 128 characters");
  v.check(!controlCharacters.test(reference), field, "must not contain control characters");
}

/** A TTL in ms from an optional Duration (unset → 15 minutes). */
export function checkTtl(v: Violations, field: string, ttl: Duration | undefined): number {
  if (!ttl) return DEFAULT_TTL_MS;
  const ms = Number(ttl.seconds) * 1000 + Math.floor(ttl.nanos / 1_000_000);
  v.check(ms >= MIN_TTL_MS && ms <= MAX_TTL_MS, field, "must be between 1 second and 24 hours");
  return ms;
}

/** A page size: 0 → default, else 1..MAX_PAGE_SIZE. */
export function checkPageSize(v: Violations, field: string, pageSize: number): number {
  if (pageSize === 0) return DEFAULT_PAGE_SIZE;
  v.check(pageSize > 0 && pageSize <= MAX_PAGE_SIZE, field, `must be between 1 and ${MAX_PAGE_SIZE}`);
  return pageSize;
}

export function checkUuid(v: Violations, field: string, id: string): boolean {
  if (!v.check(id !== "", field, "is required")) return false;
  return v.check(isUuid(id), field, "must be a UUID");
}

