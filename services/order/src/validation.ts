// The order RPCs' own bounds; the shared field rules (UUID, email, currency, payment method, postal
// address, page size, text) are the platform's. Every violation names its field path, all at once.
import { checkText, violations, type PageSizeRule, type Violations } from "@bazaar/platform";

export { violations, type Violations };

export const MAX_KEY_LENGTH = 255;
export const MAX_NOTE_LENGTH = 500;
export const MY_ORDERS_PAGE_SIZE: PageSizeRule = { default: 20, max: 100 };
export const STAFF_ORDERS_PAGE_SIZE: PageSizeRule = { default: 50, max: 500 };

export function checkIdempotencyKey(v: Violations, key: string): void {
  if (!v.check(key !== "", "idempotency_key", "is required")) return;
  checkText(v, "idempotency_key", key, { min: 0, max: MAX_KEY_LENGTH });
}

/** A note or reason: at most 500 characters, line breaks and tabs allowed. */
export function checkNote(v: Violations, field: string, note: string): void {
  checkText(v, field, note, { min: 0, max: MAX_NOTE_LENGTH, allow: "\n\t" });
}
