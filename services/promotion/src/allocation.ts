// Exact integer allocation of a discount across lines (docs: the contract's remainder rule).
//
// Each line gets ⌊amount × weight / Σweights⌋; the minor units left over (fewer than the number of
// lines) go one each to the lines with the largest fractional parts, ties to the earlier line. The
// shares sum to `amount` exactly, and no share exceeds its weight when amount ≤ Σweights (a line with
// a whole share never gets a remainder unit: only fractional parts attract them).

/** Shares of `amount` (≥ 0) in proportion to `weights` (each ≥ 0); all zero when the weights are. */
export function allocate(amount: bigint, weights: readonly bigint[]): bigint[] {
  const total = weights.reduce((sum, w) => sum + w, 0n);
  if (amount <= 0n || total === 0n) return weights.map(() => 0n);
  const shares = weights.map((w) => (amount * w) / total);
  const fractions = weights.map((w, index) => ({ index, rest: (amount * w) % total }));
  let left = amount - shares.reduce((sum, s) => sum + s, 0n);
  fractions.sort((a, b) => (a.rest === b.rest ? a.index - b.index : a.rest > b.rest ? -1 : 1));
  for (const { index } of fractions) {
    if (left === 0n) break;
    shares[index]! += 1n;
    left -= 1n;
  }
  return shares;
}

/** base × bps / 10 000, rounded half up to the minor unit (base ≥ 0; the same rule as the cart's tax). */
export function percentOf(base: bigint, bps: number): bigint {
  return (base * BigInt(bps) + 5_000n) / 10_000n;
}
