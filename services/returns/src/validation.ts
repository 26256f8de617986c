// Field rules of the returns RPCs beyond the platform's (ids, SKUs, page sizes come from there).
import { checkText, violations, type Violations } from "@bazaar/platform";

export { violations, type Violations };

export const COMMENT_RULE = { min: 0, max: 1000, allow: "\n\t" } as const;
export const NOTE_RULE = { min: 0, max: 500, allow: "\n\t" } as const;
export const REQUIRED_NOTE_RULE = { min: 1, max: 500, allow: "\n\t" } as const;
export const STAFF_RETURNS_PAGE_SIZE = { default: 50, max: 200 } as const;
/** Units per line: an order line holds at most 999. */
export const MAX_UNITS = 999;

export const checkNote = (v: Violations, field: string, value: string, required = false) => checkText(v, field, value, required ? REQUIRED_NOTE_RULE : NOTE_RULE);
