// A method's price for a parcel: per currency, a flat price, a price by total weight in tiers, or by
// discounted subtotal in tiers, optionally free from a subtotal. Tiers start at 0 and strictly ascend;
// a value is priced by the last tier whose `from` it reaches (so a tier's `from` is inclusive: 1 000 g
// with tiers at 0 and 1 000 costs the second tier). Above `max` (when set) the method is not offered.
// Amounts and weights are whole numbers (minor units, grams) well inside 2^53, stored as JSON numbers.

export interface RateTier {
  from: number;
  price: number;
}

export type RateRule =
  | { kind: "flat"; price: number }
  | { kind: "weight" | "subtotal"; tiers: RateTier[]; /** 0 = no limit. */ max: number };

export interface Rate {
  currency: string;
  rule: RateRule;
  /** Free when the discounted subtotal reaches this; undefined = never free. */
  freeOver?: number;
}

export interface Parcel {
  weightGrams: bigint;
  /** Discounted subtotal in minor units of the quote's currency. */
  subtotal: bigint;
}

function tierPrice(tiers: readonly RateTier[], max: number, value: bigint): bigint | undefined {
  if (max > 0 && value > BigInt(max)) return undefined;
  let price: bigint | undefined;
  for (const tier of tiers) {
    if (value < BigInt(tier.from)) break;
    price = BigInt(tier.price);
  }
  return price;
}

/** The price of `parcel` under `rate`, or undefined when the method is not offered for it. */
export function priceOf(rate: Rate, parcel: Parcel): bigint | undefined {
  const rule = rate.rule;
  const price =
    rule.kind === "flat"
      ? BigInt(rule.price)
      : tierPrice(rule.tiers, rule.max, rule.kind === "weight" ? parcel.weightGrams : parcel.subtotal);
  if (price === undefined) return undefined;
  return rate.freeOver !== undefined && parcel.subtotal >= BigInt(rate.freeOver) ? 0n : price;
}
