// Shipping's request rules: every bad field named at once (with its path), nothing changed. The shared
// rules (country, currency, SKU, UUID, text, page size, update mask) are the platform's.
import { checkCountryCode, checkCurrencyCode, checkSku, checkText, violations, type PageSizeRule, type Violations } from "@bazaar/platform";
import type { Money } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import type { ShippingArea, ShippingDestination, ShippingQuoteLine, ShippingRate } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import type { Rate, RateTier } from "./rates.ts";
import { normalizeDestination, normalizePostalCode, type Area, type Destination } from "./zone-match.ts";

export { violations, type Violations };

export const PAGE_SIZE: PageSizeRule = { default: 50, max: 200 };
export const MAX_MINOR = 1_000_000_000_000;
/** One unit heavier than a tonne is a data error, not a parcel. */
export const MAX_UNIT_WEIGHT_GRAMS = 1_000_000;
export const MAX_LINES = 100;
export const MAX_AREAS = 500;
export const MAX_RATES = 20;
export const MAX_TIERS = 50;

const regionPattern = /^[A-Z0-9]{1,3}$/;
const prefixPattern = /^[A-Z0-9]{1,10}$/;
const codePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const carrierPattern = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function checkZoneName(v: Violations, field: string, name: string): void {
  checkText(v, field, name, { min: 1, max: 100, codePoints: true });
}

/** Areas as stored (upper case, postal prefix without spaces); repeats within the list are violations. */
export function checkAreas(v: Violations, field: string, areas: readonly ShippingArea[]): Area[] {
  if (!v.check(areas.length > 0, field, "must list at least one area")) return [];
  if (!v.check(areas.length <= MAX_AREAS, field, `must list at most ${MAX_AREAS} areas`)) return [];
  const seen = new Map<string, number>();
  return areas.map((area, i) => {
    const at = `${field}[${i}]`;
    const countryCode = area.countryCode.trim().toUpperCase();
    const region = area.region.trim().toUpperCase();
    const postalPrefix = normalizePostalCode(area.postalPrefix);
    const valid = [
      checkCountryCode(v, `${at}.country_code`, countryCode),
      v.check(region === "" || regionPattern.test(region), `${at}.region`, 'must be 1–3 letters or digits (the subdivision without the country, e.g. "CA")'),
      v.check(area.postalPrefix.trim() === "" || prefixPattern.test(postalPrefix), `${at}.postal_prefix`, "must be 1–10 letters or digits"),
    ].every(Boolean);
    // Repeats are reported among valid areas only (a malformed one is reported as such).
    const key = `${countryCode}/${region}/${postalPrefix}`;
    const first = seen.get(key);
    if (valid && first !== undefined) v.add(at, `repeats ${field}[${first}]`);
    else if (valid) seen.set(key, i);
    return { countryCode, region, postalPrefix };
  });
}

export interface MethodFields {
  code: string;
  name: string;
  carrier: string;
  serviceLevel: string;
  minDays: number;
  maxDays: number;
  active: boolean;
  rates: Rate[];
}

export function checkCode(v: Violations, field: string, code: string): void {
  v.check(codePattern.test(code), field, "must be 1–64 of a–z, 0–9, '_' and '-', starting with a letter or digit");
}

export function checkMethodText(v: Violations, prefix: string, method: Pick<MethodFields, "name" | "carrier" | "serviceLevel">, only?: ReadonlySet<string>): void {
  const wanted = (path: string) => !only || only.has(path);
  if (wanted("name")) checkText(v, `${prefix}.name`, method.name, { min: 1, max: 80, codePoints: true });
  if (wanted("carrier")) v.check(carrierPattern.test(method.carrier), `${prefix}.carrier`, "must be 1–40 of a–z, 0–9, '_' and '-'");
  if (wanted("service_level")) v.check(carrierPattern.test(method.serviceLevel), `${prefix}.service_level`, "must be 1–40 of a–z, 0–9, '_' and '-'");
}

export function checkEstimate(v: Violations, prefix: string, minDays: number, maxDays: number): void {
  const minOk = v.check(minDays >= 0 && minDays <= 365, `${prefix}.min_days`, "must be 0–365");
  const maxOk = v.check(maxDays >= 0 && maxDays <= 365, `${prefix}.max_days`, "must be 0–365");
  if (minOk && maxOk) v.check(minDays <= maxDays, `${prefix}.max_days`, "must not be below min_days");
}

const minorOk = (value: bigint) => value >= 0n && value <= BigInt(MAX_MINOR);

function checkTiers(v: Violations, field: string, tiers: readonly { from: bigint; priceMinor: bigint }[], max: bigint, unit: string): RateTier[] {
  if (!v.check(tiers.length > 0, `${field}.tiers`, "must list at least one tier")) return [];
  if (!v.check(tiers.length <= MAX_TIERS, `${field}.tiers`, `must list at most ${MAX_TIERS} tiers`)) return [];
  tiers.forEach((tier, i) => {
    const at = `${field}.tiers[${i}]`;
    if (i === 0) v.check(tier.from === 0n, `${at}.from`, "must be 0 (the first tier starts at nothing)");
    else v.check(tier.from > tiers[i - 1]!.from, `${at}.from`, `must be greater than tiers[${i - 1}].from (tiers ascend)`);
    v.check(minorOk(tier.from), `${at}.from`, `must be 0–${MAX_MINOR} ${unit}`);
    v.check(minorOk(tier.priceMinor), `${at}.price_minor`, `must be 0–${MAX_MINOR}`);
  });
  v.check(max === 0n || (minorOk(max) && max >= tiers.at(-1)!.from), `${field}.max`, "must be 0 (no limit) or at least the last tier's from");
  return tiers.map((tier) => ({ from: Number(tier.from), price: Number(tier.priceMinor) }));
}

export function checkRates(v: Violations, field: string, rates: readonly ShippingRate[]): Rate[] {
  if (!v.check(rates.length > 0, field, "must list at least one rate (a method is offered only in currencies it has a price for)")) return [];
  if (!v.check(rates.length <= MAX_RATES, field, `must list at most ${MAX_RATES} rates`)) return [];
  const seen = new Map<string, number>();
  const out: Rate[] = [];
  rates.forEach((rate, i) => {
    const at = `${field}[${i}]`;
    if (checkCurrencyCode(v, `${at}.currency_code`, rate.currencyCode)) {
      const first = seen.get(rate.currencyCode);
      if (first !== undefined) v.add(`${at}.currency_code`, `repeats ${field}[${first}]'s currency`);
      else seen.set(rate.currencyCode, i);
    }
    if (rate.freeOverMinor !== undefined) v.check(minorOk(rate.freeOverMinor), `${at}.free_over_minor`, `must be 0–${MAX_MINOR}`);
    const freeOver = rate.freeOverMinor === undefined ? {} : { freeOver: Number(rate.freeOverMinor) };
    switch (rate.rule.case) {
      case "flatMinor":
        v.check(minorOk(rate.rule.value), `${at}.flat_minor`, `must be 0–${MAX_MINOR}`);
        out.push({ currency: rate.currencyCode, rule: { kind: "flat", price: Number(rate.rule.value) }, ...freeOver });
        break;
      case "byWeight":
      case "bySubtotal": {
        const kind = rate.rule.case === "byWeight" ? "weight" : "subtotal";
        const path = `${at}.${kind === "weight" ? "by_weight" : "by_subtotal"}`;
        const tiers = checkTiers(v, path, rate.rule.value.tiers, rate.rule.value.max, kind === "weight" ? "grams" : "minor units");
        out.push({ currency: rate.currencyCode, rule: { kind, tiers, max: Number(rate.rule.value.max) }, ...freeOver });
        break;
      }
      default:
        v.add(at, "needs a price: flat_minor, by_weight or by_subtotal");
    }
  });
  return out;
}

export function checkDestination(v: Violations, field: string, destination: ShippingDestination | undefined): Destination | undefined {
  if (!v.check(destination, field, "is required")) return undefined;
  const normal = normalizeDestination(destination!);
  checkCountryCode(v, `${field}.country_code`, normal.countryCode);
  checkText(v, `${field}.region`, destination!.region, { min: 0, max: 100, codePoints: true });
  checkText(v, `${field}.postal_code`, destination!.postalCode, { min: 0, max: 20, codePoints: true });
  return normal;
}

export interface ParcelLine {
  sku: string;
  quantity: number;
  weightGrams: number;
}

export function checkLines(v: Violations, field: string, lines: readonly ShippingQuoteLine[]): ParcelLine[] {
  if (!v.check(lines.length <= MAX_LINES, field, `must list at most ${MAX_LINES} lines`)) return [];
  lines.forEach((line, i) => {
    checkSku(v, `${field}[${i}].sku`, line.sku);
    v.check(line.quantity >= 1 && line.quantity <= 999, `${field}[${i}].quantity`, "must be 1–999");
    v.check(line.weightGrams >= 0n && line.weightGrams <= BigInt(MAX_UNIT_WEIGHT_GRAMS), `${field}[${i}].weight_grams`, `must be 0–${MAX_UNIT_WEIGHT_GRAMS} grams`);
  });
  return lines.map((line) => ({ sku: line.sku, quantity: line.quantity, weightGrams: Number(line.weightGrams) }));
}

export function checkSubtotal(v: Violations, field: string, money: Money | undefined): { currency: string; amount: bigint } | undefined {
  if (!v.check(money, field, "is required (the discounted subtotal, in the currency to quote in)")) return undefined;
  const currencyOk = checkCurrencyCode(v, `${field}.currency_code`, money!.currencyCode);
  const amountOk = v.check(minorOk(money!.amountMinor), `${field}.amount_minor`, `must be 0–${MAX_MINOR}`);
  return currencyOk && amountOk ? { currency: money!.currencyCode, amount: money!.amountMinor } : undefined;
}
