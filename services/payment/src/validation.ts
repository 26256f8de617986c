// Request bounds of the payment RPCs. Every violation names its field; nothing is echoed back that
// could be a card number.
import { isUuid, violations, type Violations } from "@bazaar/platform";
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";

export { violations, type Violations };

export const MAX_AMOUNT = 1_000_000_000_000n;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

// A gateway token. Digits-only card numbers, spaces and dashes can never match, so a PAN is refused
// before it is stored, logged or sent anywhere.
const paymentMethodPattern = /^pm_[A-Za-z0-9_]{1,250}$/;
const currencyPattern = /^[A-Z]{3}$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f]/;

export function checkUuid(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check(isUuid(value), field, "must be a UUID");
}

/** 1 … 10^12 minor units of an ISO 4217 code. */
export function checkMoney(v: Violations, field: string, money: Money | undefined, options: { max?: bigint } = {}): boolean {
  if (!v.check(money, field, "is required")) return false;
  const max = options.max ?? MAX_AMOUNT;
  const amountOk = v.check(money!.amountMinor > 0n, `${field}.amount_minor`, "must be positive") && v.check(money!.amountMinor <= max, `${field}.amount_minor`, `must be at most ${max}`);
  const currencyOk = v.check(currencyPattern.test(money!.currencyCode), `${field}.currency_code`, "must be a three-letter ISO 4217 code in upper case, e.g. EUR");
  return amountOk && currencyOk;
}

export function checkPaymentMethod(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  // The description never repeats the value: it may be a card number typed into the wrong field.
  return v.check(paymentMethodPattern.test(value), field, 'must be a gateway token: "pm_" and 1–250 letters, digits or "_" (card numbers are never accepted)');
}

export function checkCustomerId(v: Violations, field: string, value: string): void {
  if (value === "") return;
  v.check(value.length <= 128 && !controlCharacters.test(value), field, "must be at most 128 printable characters");
}

export function checkEmail(v: Violations, field: string, value: string): void {
  if (value === "") return;
  v.check(value.length <= 254 && emailPattern.test(value), field, "must be an email address of at most 254 characters, or empty");
}

export function checkRefundId(v: Violations, field: string, value: string): boolean {
  if (!v.check(value !== "", field, "is required")) return false;
  return v.check([...value].length <= 128 && !controlCharacters.test(value), field, "must be 1–128 printable characters");
}

export function checkReason(v: Violations, field: string, value: string): void {
  v.check([...value].length <= 500, field, "must be at most 500 characters");
}

/** A page size: 0 → default, else 1..MAX_PAGE_SIZE. */
export function checkPageSize(v: Violations, field: string, pageSize: number): number {
  if (pageSize === 0) return DEFAULT_PAGE_SIZE;
  v.check(pageSize > 0 && pageSize <= MAX_PAGE_SIZE, field, `must be between 1 and ${MAX_PAGE_SIZE}`);
  return pageSize;
}

