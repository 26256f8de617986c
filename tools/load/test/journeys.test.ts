import test from "ava";
import { createJourneyPicker, journeyNames, seededRandom, type JourneyName } from "../src/journeys.ts";
import { defaultWeights } from "../src/options.ts";

function draw(weights: Record<JourneyName, number>, n: number, seed = 42): Record<string, number> {
  const pick = createJourneyPicker(weights, seededRandom(seed));
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const j = pick();
    counts[j] = (counts[j] ?? 0) + 1;
  }
  return counts;
}

test("the picker draws each journey in proportion to its weight (the default mix over 100,000 draws)", (t) => {
  const n = 100_000;
  const counts = draw(defaultWeights, n);
  const total = journeyNames.reduce((s, j) => s + defaultWeights[j], 0);
  for (const j of journeyNames) {
    const expected = defaultWeights[j] / total;
    const seen = (counts[j] ?? 0) / n;
    // 100k draws: the standard error of a share is below 0.16 %; 0.6 % is far outside chance.
    t.true(Math.abs(seen - expected) < 0.006, `${j}: ${seen.toFixed(4)} vs ${expected.toFixed(4)}`);
  }
});

test("a journey weighted 0 is never drawn; one weight alone is always drawn", (t) => {
  const counts = draw({ browse: 1, search: 0, product: 0, addToCart: 0, viewCart: 0, checkout: 3 }, 20_000);
  t.deepEqual(Object.keys(counts).sort(), ["browse", "checkout"]);
  t.true(Math.abs(counts.checkout! / 20_000 - 0.75) < 0.015);
  t.deepEqual(draw({ browse: 0, search: 0, product: 0, addToCart: 0, viewCart: 0, checkout: 2 }, 1000), { checkout: 1000 });
});

test("the same seed draws the same journeys; another seed others", (t) => {
  const sequence = (seed: number) => {
    const pick = createJourneyPicker(defaultWeights, seededRandom(seed));
    return Array.from({ length: 50 }, pick);
  };
  t.deepEqual(sequence(7), sequence(7));
  t.notDeepEqual(sequence(7), sequence(8));
  t.throws(() => createJourneyPicker({ browse: 0, search: 0, product: 0, addToCart: 0, viewCart: 0, checkout: 0 }, Math.random), { message: /no journey/ });
});
