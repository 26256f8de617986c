// The cart's own bounds (the shared field rules — UUID, SKU, country — are the platform's).
import type { Violations } from "@bazaar/platform";

export const MAX_LINES = 100;
export const MAX_LINE_QUANTITY = 999;
export const MAX_REGION_LENGTH = 100;
export const MAX_POSTAL_CODE_LENGTH = 20;

export function checkQuantity(v: Violations, field: string, quantity: number, min: 0 | 1): boolean {
  return v.check(Number.isInteger(quantity) && quantity >= min && quantity <= MAX_LINE_QUANTITY, field, `must be between ${min} and ${MAX_LINE_QUANTITY}`);
}
