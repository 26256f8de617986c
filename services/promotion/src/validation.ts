// The promotion RPCs' own rules; the shared field rules (UUID, SKU, currency, text, page size, update
// mask) are the platform's. Every violation names its field; nothing is changed when there is one.
import { checkCurrencyCode, checkSku, checkText, checkUuid, hasControlCharacters, violations, type PageSizeRule, type Violations } from "@bazaar/platform";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import type { ItemSelector, Promotion, PromotionAction, PromotionConditions } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";

export { violations, type Violations };

export const PAGE_SIZE: PageSizeRule = { default: 50, max: 200 };
export const REDEMPTIONS_PAGE_SIZE: PageSizeRule = { default: 50, max: 500 };
export const CODES_PAGE_SIZE: PageSizeRule = { default: 1000, max: 10_000 };
export const MAX_BATCH_CODES = 10_000;
export const MAX_CART_CODES = 10;
const MAX_AMOUNT = 1_000_000_000_000n;
const MAX_SELECTOR_ENTRIES = 500;

const codePattern = /^[A-Za-z0-9_-]{1,64}$/;
const prefixPattern = /^[A-Za-z0-9]{1,20}$/;

/** The form codes are kept and compared in: codes are case-insensitive. */
export const normalizeCode = (code: string): string => code.toUpperCase();

/** 1–64 of A–Z, 0–9, '-', '_': no spaces, nothing a buyer could mistype invisibly. */
export function checkCode(v: Violations, field: string, code: string): boolean {
  if (!v.check(code !== "", field, "is required")) return false;
  return v.check(codePattern.test(code), field, "must be 1–64 of A–Z, 0–9, '-' and '_' (no spaces)");
}

export function checkPrefix(v: Violations, field: string, prefix: string): boolean {
  return v.check(prefixPattern.test(prefix), field, "must be 1–20 of A–Z and 0–9");
}

function checkPercent(v: Violations, field: string, bps: number): void {
  v.check(bps >= 1 && bps <= 10_000, field, "must be between 1 and 10000 basis points (0–100 %)");
}

/** Positive amounts with a currency each, at most one per currency. */
function checkAmounts(v: Violations, field: string, amounts: readonly Money[], options: { required: boolean }): void {
  if (options.required) v.check(amounts.length > 0, field, "needs at least one amount (per currency)");
  const seen = new Set<string>();
  amounts.forEach((m, i) => {
    checkMoney(v, `${field}[${i}]`, m);
    v.check(!seen.has(m.currencyCode), `${field}[${i}].currency_code`, "repeats a currency");
    seen.add(m.currencyCode);
  });
}

/** A positive amount of at most 10^12 minor units in an ISO 4217 currency. */
export function checkMoney(v: Violations, field: string, m: Money): void {
  v.check(m.amountMinor > 0n && m.amountMinor <= MAX_AMOUNT, `${field}.amount_minor`, `must be between 1 and ${MAX_AMOUNT}`);
  checkCurrencyCode(v, `${field}.currency_code`, m.currencyCode);
}

function checkSelector(v: Violations, field: string, s: ItemSelector): void {
  v.check(s.skus.length + s.productIds.length + s.categoryIds.length <= MAX_SELECTOR_ENTRIES, field, `may list at most ${MAX_SELECTOR_ENTRIES} SKUs, products and categories`);
  s.skus.slice(0, MAX_SELECTOR_ENTRIES).forEach((sku, i) => checkSku(v, `${field}.skus[${i}]`, sku));
  s.productIds.slice(0, MAX_SELECTOR_ENTRIES).forEach((id, i) => checkUuid(v, `${field}.product_ids[${i}]`, id));
  s.categoryIds.slice(0, MAX_SELECTOR_ENTRIES).forEach((id, i) => checkUuid(v, `${field}.category_ids[${i}]`, id));
}

const selectorIsEmpty = (s: ItemSelector | undefined) => !s || s.skus.length + s.productIds.length + s.categoryIds.length === 0;

export function checkConditions(v: Violations, field: string, c: PromotionConditions | undefined): void {
  if (!v.check(c, field, "is required (set conditions.everything for a promotion on every cart)")) return;
  const any =
    c!.minimumSubtotal.length > 0 || !selectorIsEmpty(c!.items) || c!.signedInOnly || c!.firstOrderOnly || c!.customerRoles.length > 0 || c!.currencies.length > 0;
  // An empty condition set would discount everything by accident: it has to be said.
  v.check(any || c!.everything, `${field}.everything`, "must be true when no other condition is set (the promotion would apply to every cart)");
  checkAmounts(v, `${field}.minimum_subtotal`, c!.minimumSubtotal, { required: false });
  if (c!.items) checkSelector(v, `${field}.items`, c!.items);
  v.check(c!.minimumQuantity >= 0 && c!.minimumQuantity <= 999, `${field}.minimum_quantity`, "must be between 0 and 999");
  v.check(c!.minimumQuantity === 0 || !selectorIsEmpty(c!.items), `${field}.minimum_quantity`, "needs conditions.items");
  v.check(c!.customerRoles.length <= 20, `${field}.customer_roles`, "may list at most 20 roles");
  c!.customerRoles.slice(0, 20).forEach((role, i) => checkText(v, `${field}.customer_roles[${i}]`, role, { min: 1, max: 64 }));
  c!.currencies.slice(0, 200).forEach((code, i) => checkCurrencyCode(v, `${field}.currencies[${i}]`, code));
}

export function checkAction(v: Violations, field: string, a: PromotionAction | undefined): void {
  const kind = a?.kind;
  if (!v.check(kind && kind.case !== undefined, field, "is required: one of order_percent_off, order_amount_off, items_off, free_shipping, buy_x_get_y")) return;
  switch (kind!.case) {
    case "orderPercentOff":
      return checkPercent(v, `${field}.order_percent_off.percent_bps`, kind!.value.percentBps);
    case "orderAmountOff":
      return checkAmounts(v, `${field}.order_amount_off.amounts`, kind!.value.amounts, { required: true });
    case "itemsOff": {
      const f = `${field}.items_off`;
      const { percentBps, amountsPerUnit, items } = kind!.value;
      if (items) checkSelector(v, `${f}.items`, items);
      if (!v.check((percentBps !== 0) !== (amountsPerUnit.length > 0), f, "needs exactly one of percent_bps and amounts_per_unit")) return;
      if (percentBps !== 0) checkPercent(v, `${f}.percent_bps`, percentBps);
      else checkAmounts(v, `${f}.amounts_per_unit`, amountsPerUnit, { required: true });
      return;
    }
    case "freeShipping":
      return void kind!.value.shippingOptionIds.forEach((id, i) =>
        v.check(/^[a-z0-9][a-z0-9_-]{0,63}$/.test(id), `${field}.free_shipping.shipping_option_ids[${i}]`, "must be a shipping option id (1–64 of a–z, 0–9, '_', '-')"),
      );
    case "buyXGetY": {
      const f = `${field}.buy_x_get_y`;
      const b = kind!.value;
      if (b.buy) checkSelector(v, `${f}.buy`, b.buy);
      if (b.get) checkSelector(v, `${f}.get`, b.get);
      v.check(b.buyQuantity >= 1 && b.buyQuantity <= 1000, `${f}.buy_quantity`, "must be between 1 and 1000");
      v.check(b.getQuantity >= 1 && b.getQuantity <= 1000, `${f}.get_quantity`, "must be between 1 and 1000");
      checkPercent(v, `${f}.percent_bps`, b.percentBps);
      v.check(b.maxRewards >= 0, `${f}.max_rewards`, "must not be negative");
      return;
    }
  }
}

/** The fields of a promotion to create (or, with `paths`, only those an update names). */
export function checkPromotion(v: Violations, p: Promotion, paths?: readonly string[]): void {
  const has = (path: string) => !paths || paths.includes(path);
  if (has("name")) checkText(v, "promotion.name", p.name, { min: 1, max: 100, codePoints: true });
  if (has("description")) checkText(v, "promotion.description", p.description, { min: 0, max: 1000, codePoints: true, allow: "\n" });
  if (!paths) {
    if (p.code !== "") checkCode(v, "promotion.code", p.code);
    v.check(!(p.automatic && p.code !== ""), "promotion.code", "must be empty for an automatic promotion (it applies without one)");
  }
  if (has("conditions")) checkConditions(v, "promotion.conditions", p.conditions);
  if (has("action")) checkAction(v, "promotion.action", p.action);
  if (has("priority")) v.check(p.priority >= -1000 && p.priority <= 1000, "promotion.priority", "must be between -1000 and 1000");
  if (has("usage_limit")) v.check(p.usageLimit >= 0n, "promotion.usage_limit", "must not be negative (0 for no limit)");
  if (has("per_customer_limit")) v.check(p.perCustomerLimit >= 0, "promotion.per_customer_limit", "must not be negative (0 for no limit)");
  if (has("budget") && p.budget) checkMoney(v, "promotion.budget", p.budget);
  if ((has("start_time") || has("end_time")) && p.startTime && p.endTime) {
    v.check(timestampDate(p.endTime) > timestampDate(p.startTime), "promotion.end_time", "must be after start_time");
  }
}

/** Text the buyer typed as a code, for lookups: never a violation (unknown codes get a reason). */
export function looksLikeCode(code: string): boolean {
  return codePattern.test(code) && !hasControlCharacters(code);
}
