// Everything about what a cart costs, in one module: the tax table behind taxRateFor and computeTotals.
// Shipping prices come from the shipping service (see shipping-quotes.ts). The order service never
// keeps its own copy: it prices a checkout through PrepareCheckout, which uses these.
//
// Amounts are bigint minor units. Prices are tax-exclusive; tax applies to the discounted subtotal
// plus shipping at the destination's rate and is rounded half up to the minor unit:
// tax = ⌊(base × rate_bps + 5 000) / 10 000⌋ for base ≥ 0.
import { z } from "zod";

/** Basis points by country ("GB") or country and region ("US-CA", ISO 3166-2 style). */
export const taxRatesSchema = z.record(
  z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'keys must be a country ("GB") or country-region ("US-CA")'),
  z.number().int().min(0).max(10_000),
);

export type TaxRates = z.output<typeof taxRatesSchema>;

/** Built-in tax rates (basis points); anywhere not listed is 0. */
export const defaultTaxRates: TaxRates = {
  GB: 2000, DE: 1900, FR: 2000, NL: 2100, IE: 2300, IT: 2200, ES: 2100, SE: 2500, AT: 2000, BE: 2100, PL: 2300, PT: 2300,
  CA: 500, AU: 1000, NZ: 1500, JP: 1000,
  "US-CA": 725, "US-NY": 400, "US-TX": 625, "US-WA": 650, "US-FL": 600, "US-IL": 625, "US-PA": 600, "US-MA": 625, "US-NJ": 663,
};

/** A shipping option as quoted for one destination, parcel and currency. */
export interface PricedShippingOption {
  id: string;
  displayName: string;
  price: bigint;
  minDays: number;
  maxDays: number;
}

/** What computeTotals needs of a line: its total and whether it can be bought as it is. */
export interface TotalsLine {
  sku: string;
  quantity: number;
  lineTotal: bigint;
  buyable: boolean;
}

export interface Totals {
  subtotal: bigint;
  discount: bigint;
  shipping: bigint;
  tax: bigint;
  total: bigint;
  taxRateBps: number;
  shippingKnown: boolean;
  /** What free shipping took off the option's price (already out of `shipping`). */
  shippingDiscount: bigint;
}

/**
 * What promotions take off, as the promotion service evaluated the cart (see promotions.ts): an
 * amount off the buyable lines (clamped to [0, subtotal]) and whether the chosen shipping option's
 * price — whatever it comes to — is waived.
 */
export interface PromotionDiscount {
  lines: bigint;
  freeShipping: boolean;
}

export const NO_PROMOTIONS: PromotionDiscount = { lines: 0n, freeShipping: false };

/** Half-up rounding of base × bps / 10 000 for a non-negative base. */
export function taxOn(base: bigint, bps: number): bigint {
  return (base * BigInt(bps) + 5_000n) / 10_000n;
}

/**
 * Totals per the CartTotals contract: subtotal over buyable lines, discount (never above it), and —
 * once shipping is known — the option's price less any free shipping, and tax on (subtotal −
 * discount + shipping): tax applies after discounts.
 */
export function computeTotals(
  lines: readonly TotalsLine[],
  shipping: { price: bigint; taxRateBps: number } | undefined,
  _currency: string,
  promotions: PromotionDiscount = NO_PROMOTIONS,
): Totals {
  const subtotal = lines.reduce((sum, line) => (line.buyable ? sum + line.lineTotal : sum), 0n);
  const offered = promotions.lines;
  const discount = offered < 0n ? 0n : offered > subtotal ? subtotal : offered;
  if (!shipping) return { subtotal, discount, shipping: 0n, tax: 0n, total: subtotal - discount, taxRateBps: 0, shippingKnown: false, shippingDiscount: 0n };
  const shippingDiscount = promotions.freeShipping ? shipping.price : 0n;
  const shippingCharged = shipping.price - shippingDiscount;
  const tax = taxOn(subtotal - discount + shippingCharged, shipping.taxRateBps);
  return {
    subtotal,
    discount,
    shipping: shippingCharged,
    tax,
    total: subtotal - discount + shippingCharged + tax,
    taxRateBps: shipping.taxRateBps,
    shippingKnown: true,
    shippingDiscount,
  };
}

export interface PricingOptions {
  /** Default: defaultTaxRates. */
  taxRates?: TaxRates;
}

export interface Pricing {
  /** Tax rate in basis points: the country-region rate when listed ("US" + "CA"), else the country's, else 0. */
  taxRateFor(country: string, region: string): number;
  /**
   * Totals for the lines and, when given, a destination and its quoted option (shipping stays unknown
   * without one, e.g. when the option is not offered there).
   */
  totalsFor(
    lines: readonly TotalsLine[],
    currency: string,
    destination?: { countryCode: string; region: string; option: PricedShippingOption | undefined },
    promotions?: PromotionDiscount,
  ): { totals: Totals; option: PricedShippingOption | undefined };
}

export function createPricing(options: PricingOptions = {}): Pricing {
  const taxes = options.taxRates ?? defaultTaxRates;

  const taxRateFor: Pricing["taxRateFor"] = (country, region) => {
    const code = region.trim().toUpperCase().replace(new RegExp(`^${country}-`), "");
    return (code !== "" ? taxes[`${country}-${code}`] : undefined) ?? taxes[country] ?? 0;
  };

  return {
    taxRateFor,
    totalsFor(lines, currency, destination, promotions = NO_PROMOTIONS) {
      const option = destination?.option;
      if (!destination || !option) return { totals: computeTotals(lines, undefined, currency, promotions), option: undefined };
      const totals = computeTotals(lines, { price: option.price, taxRateBps: taxRateFor(destination.countryCode, destination.region) }, currency, promotions);
      return { totals, option };
    },
  };
}
