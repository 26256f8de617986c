// What each unit really cost: the order's tax is spread over the lines (after their allocated
// discounts) and the shipping in proportion to what it was charged on, with the remainder going to the
// largest fractions, so that the parts add up to the order's total exactly. A refund of k more units of
// a line of n is the difference of two floors, so however a line is returned in parts, its units add
// up to the line's amount, never a minor unit more.

export interface PricedPart {
  key: string;
  /** What the part was charged before tax (a line after its discount, or the shipping). */
  base: bigint;
}

/** Each part's base plus its share of `tax` (shares proportional to the bases, Σ shares = tax). */
export function withTaxShares(parts: readonly PricedPart[], tax: bigint): Map<string, bigint> {
  const total = parts.reduce((sum, part) => sum + (part.base > 0n ? part.base : 0n), 0n);
  const amounts = new Map<string, bigint>();
  if (total === 0n || tax <= 0n) {
    for (const part of parts) amounts.set(part.key, part.base);
    return amounts;
  }
  const shares = parts.map((part) => {
    const weight = part.base > 0n ? part.base : 0n;
    return { part, share: (tax * weight) / total, remainder: (tax * weight) % total };
  });
  let left = tax - shares.reduce((sum, s) => sum + s.share, 0n);
  for (const s of [...shares].sort((a, b) => (b.remainder > a.remainder ? 1 : b.remainder < a.remainder ? -1 : 0))) {
    if (left === 0n) break;
    s.share += 1n;
    left -= 1n;
  }
  for (const s of shares) amounts.set(s.part.key, s.part.base + s.share);
  return amounts;
}

/** What `units` more units of a line of `delivered` costing `lineAmount` refund, after `refundedBefore`. */
export function unitsAmount(lineAmount: bigint, delivered: number, refundedBefore: number, units: number): bigint {
  const n = BigInt(delivered);
  return (lineAmount * BigInt(refundedBefore + units)) / n - (lineAmount * BigInt(refundedBefore)) / n;
}
