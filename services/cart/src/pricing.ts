// Everything about what a cart costs, in one module: the flat-rate shipping table behind
// shippingOptionsFor, the tax table behind taxRateFor, and computeTotals. The order service never keeps
// its own copy: it prices a checkout through PrepareCheckout, which uses these.
//
// Amounts are bigint minor units. Prices are tax-exclusive; tax applies to the discounted subtotal
// plus shipping at the destination's rate and is rounded half up to the minor unit:
// tax = ⌊(base × rate_bps + 5 000) / 10 000⌋ for base ≥ 0.
import { z } from "zod";
import { isCurrencyCode } from "@bazaar/platform";

const minor = z.number().int().min(0).max(1_000_000_000_000);
const currencyCode = z.string().refine(isCurrencyCode, "must be an ISO 4217 code such as USD");

/** One zone (domestic or international) of a shipping option. */
export const shippingZoneSchema = z
  .object({
    minDays: z.number().int().min(0).max(365),
    maxDays: z.number().int().min(0).max(365),
    /** Price per currency in minor units; the option is not offered in a currency without one. */
    prices: z.record(currencyCode, minor),
    /** Free when the discounted subtotal reaches this, per currency. */
    freeOver: z.record(currencyCode, minor).optional(),
  })
  .refine((zone) => zone.minDays <= zone.maxDays, "minDays must not exceed maxDays");

export const shippingRateSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "must be 1–64 of a–z, 0–9, '_' and '-'"),
  /** For people, e.g. "Standard"; the delivery estimate is appended. */
  name: z.string().min(1).max(80),
  domestic: shippingZoneSchema.optional(),
  international: shippingZoneSchema.optional(),
});

export const shippingRatesSchema = z
  .array(shippingRateSchema)
  .min(1)
  .refine((rates) => new Set(rates.map((r) => r.id)).size === rates.length, "option ids must be unique");

/** Basis points by country ("GB") or country and region ("US-CA", ISO 3166-2 style). */
export const taxRatesSchema = z.record(
  z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/, 'keys must be a country ("GB") or country-region ("US-CA")'),
  z.number().int().min(0).max(10_000),
);

export type ShippingRates = z.output<typeof shippingRatesSchema>;
export type TaxRates = z.output<typeof taxRatesSchema>;

/** Built-in flat rates: standard (free at home over 50.00) and express, at home and abroad. */
export const defaultShippingRates: ShippingRates = [
  {
    id: "standard",
    name: "Standard",
    domestic: { minDays: 3, maxDays: 5, prices: { USD: 599, EUR: 549, GBP: 499 }, freeOver: { USD: 5_000, EUR: 5_000, GBP: 4_500 } },
    international: { minDays: 7, maxDays: 14, prices: { USD: 1_999, EUR: 1_799, GBP: 1_599 } },
  },
  {
    id: "express",
    name: "Express",
    domestic: { minDays: 1, maxDays: 2, prices: { USD: 1_499, EUR: 1_399, GBP: 1_299 } },
    international: { minDays: 3, maxDays: 5, prices: { USD: 3_999, EUR: 3_599, GBP: 3_299 } },
  },
];

/** Built-in tax rates (basis points); anywhere not listed is 0. */
export const defaultTaxRates: TaxRates = {
  GB: 2000, DE: 1900, FR: 2000, NL: 2100, IE: 2300, IT: 2200, ES: 2100, SE: 2500, AT: 2000, BE: 2100, PL: 2300, PT: 2300,
  CA: 500, AU: 1000, NZ: 1500, JP: 1000,
  "US-CA": 725, "US-NY": 400, "US-TX": 625, "US-WA": 650, "US-FL": 600, "US-IL": 625, "US-PA": 600, "US-MA": 625, "US-NJ": 663,
};

/** A shipping option as offered for one destination and currency. */
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
}

/**
 * The discount hook: what promotions take off the subtotal of the buyable lines. Zero until the
 * promotion service exists; whatever it returns is clamped to [0, subtotal].
 */
export function discountFor(_lines: readonly TotalsLine[], _currency: string, _subtotal: bigint): bigint {
  return 0n;
}

/** Half-up rounding of base × bps / 10 000 for a non-negative base. */
export function taxOn(base: bigint, bps: number): bigint {
  return (base * BigInt(bps) + 5_000n) / 10_000n;
}

/**
 * Totals per the CartTotals contract: subtotal over buyable lines, discount (never above it), and —
 * once shipping is known — the option's price and tax on (subtotal − discount + shipping).
 */
export function computeTotals(lines: readonly TotalsLine[], shipping: { price: bigint; taxRateBps: number } | undefined, currency: string): Totals {
  const subtotal = lines.reduce((sum, line) => (line.buyable ? sum + line.lineTotal : sum), 0n);
  const offered = discountFor(lines, currency, subtotal);
  const discount = offered < 0n ? 0n : offered > subtotal ? subtotal : offered;
  if (!shipping) return { subtotal, discount, shipping: 0n, tax: 0n, total: subtotal - discount, taxRateBps: 0, shippingKnown: false };
  const tax = taxOn(subtotal - discount + shipping.price, shipping.taxRateBps);
  return {
    subtotal,
    discount,
    shipping: shipping.price,
    tax,
    total: subtotal - discount + shipping.price + tax,
    taxRateBps: shipping.taxRateBps,
    shippingKnown: true,
  };
}

export interface PricingOptions {
  /** Destinations in this country use the domestic zones (default "US"). */
  homeCountry?: string;
  /** Default: defaultShippingRates. */
  shippingRates?: ShippingRates;
  /** Default: defaultTaxRates. */
  taxRates?: TaxRates;
}

export interface Pricing {
  /**
   * The options offered for a destination country and currency, cheapest first, priced for a cart
   * whose discounted subtotal is `subtotal` (free-shipping thresholds; 0 for a bare price list).
   */
  shippingOptionsFor(country: string, currency: string, subtotal?: bigint): PricedShippingOption[];
  /** Tax rate in basis points: the country-region rate when listed ("US" + "CA"), else the country's, else 0. */
  taxRateFor(country: string, region: string): number;
  /**
   * Totals for the lines and, when given, a destination and option. `option` is undefined (and
   * shipping unknown) when the option is not offered there.
   */
  totalsFor(
    lines: readonly TotalsLine[],
    currency: string,
    destination?: { countryCode: string; region: string; shippingOptionId: string },
  ): { totals: Totals; option: PricedShippingOption | undefined };
}

export function createPricing(options: PricingOptions = {}): Pricing {
  const home = options.homeCountry ?? "US";
  const rates = options.shippingRates ?? defaultShippingRates;
  const taxes = options.taxRates ?? defaultTaxRates;

  const shippingOptionsFor: Pricing["shippingOptionsFor"] = (country, currency, subtotal = 0n) =>
    rates
      .flatMap((rate) => {
        const zone = country === home ? rate.domestic : rate.international;
        const price = zone?.prices[currency];
        if (!zone || price === undefined) return [];
        const threshold = zone.freeOver?.[currency];
        return [
          {
            id: rate.id,
            displayName: zone.minDays === zone.maxDays ? `${rate.name} (${zone.minDays} days)` : `${rate.name} (${zone.minDays}–${zone.maxDays} days)`,
            price: threshold !== undefined && subtotal >= BigInt(threshold) ? 0n : BigInt(price),
            minDays: zone.minDays,
            maxDays: zone.maxDays,
          },
        ];
      })
      .sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : a.minDays - b.minDays));

  const taxRateFor: Pricing["taxRateFor"] = (country, region) => {
    const code = region.trim().toUpperCase().replace(new RegExp(`^${country}-`), "");
    return (code !== "" ? taxes[`${country}-${code}`] : undefined) ?? taxes[country] ?? 0;
  };

  return {
    shippingOptionsFor,
    taxRateFor,
    totalsFor(lines, currency, destination) {
      const bare = computeTotals(lines, undefined, currency);
      if (!destination) return { totals: bare, option: undefined };
      const option = shippingOptionsFor(destination.countryCode, currency, bare.subtotal - bare.discount).find((o) => o.id === destination.shippingOptionId);
      if (!option) return { totals: bare, option: undefined };
      const totals = computeTotals(lines, { price: option.price, taxRateBps: taxRateFor(destination.countryCode, destination.region) }, currency);
      return { totals, option };
    },
  };
}
