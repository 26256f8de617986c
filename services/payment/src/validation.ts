// The payment RPCs' own bounds; the shared field rules (UUID, email, currency, payment method, page
// size) are the platform's. Every violation names its field; nothing is echoed back that could be a
// card number.
import { checkCurrencyCode, hasControlCharacters, violations, type PageSizeRule, type Violations } from "@bazaar/platform";
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";

export { violations, type Violations };

export const MAX_AMOUNT = 1_000_000_000_000n;
export const PAGE_SIZE: PageSizeRule = { default: 50, max: 500 };

/** 1 … 10^12 minor units of an ISO 4217 code. */
export function checkMoney(v: Violations, field: string, money: Money | undefined, options: { max?: bigint } = {}): boolean {
  if (!v.check(money, field, "is required")) return false;
  const max = options.max ?? MAX_AMOUNT;
  const amountOk = v.check(money!.amountMinor > 0n, `${field}.amount_minor`, "must be positive") && v.check(money!.amountMinor <= max, `${field}.amount_minor`, `must be at most ${max}`);
  const currencyOk = checkCurrencyCode(v, `${field}.currency_code`, money!.currencyCode);
  return amountOk && currencyOk;
}

export function checkCustomerId(v: Violations, field: string, value: string): void {
  if (value === "") return;
  v.check(value.length <= 128 && !hasControlCharacters(value), field, "must be at most 128 printable characters");
}

export function checkRefundId(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check([...value].length <= 128 && !hasControlCharacters(value), field, "must be 1–128 printable characters");
}

export function checkReason(v: Violations, field: string, value: string): void {
  v.check([...value].length <= 500, field, "must be at most 500 characters");
}
