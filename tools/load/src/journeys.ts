// The shopper journeys and the weighted picker: each arrival (or each closed-loop shopper's next
// turn) draws one journey with probability proportional to its weight, as the demo shops' locust
// files do with task weights.
export const journeyNames = ["browse", "search", "product", "addToCart", "viewCart", "checkout"] as const;
export type JourneyName = (typeof journeyNames)[number];
export type Weights = Record<JourneyName, number>;

/** A seeded PRNG (mulberry32): the same seed draws the same journeys, so runs are comparable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createJourneyPicker(weights: Weights, random: () => number): () => JourneyName {
  const entries = journeyNames.filter((n) => weights[n] > 0).map((n) => ({ name: n, weight: weights[n] }));
  const total = entries.reduce((sum, e) => sum + e.weight, 0);
  if (entries.length === 0 || !(total > 0)) throw new Error("createJourneyPicker: no journey has a weight above 0");
  return () => {
    let draw = random() * total;
    for (const entry of entries) {
      draw -= entry.weight;
      if (draw < 0) return entry.name;
    }
    return entries[entries.length - 1]!.name;
  };
}
