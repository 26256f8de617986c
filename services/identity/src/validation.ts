// Identity's own request bounds; the shared field rules (UUID, email, phone, country, postal address,
// page size, update mask) are the platform's.
import type { PageSizeRule, TextRule } from "@bazaar/platform";

export const TOKEN_MAX = 200;
export const DISPLAY_NAME: TextRule = { min: 0, max: 100, codePoints: true };
export const USERS_PAGE_SIZE: PageSizeRule = { default: 50, max: 100 };

/** The form an email is stored, compared and checked in. */
export function normaliseEmail(email: string): string {
  return email.normalize("NFC").trim().toLowerCase();
}
