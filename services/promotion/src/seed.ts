// Demo promotions for `npm run seed`: a storewide 10 % code, free shipping over a threshold and a
// buy-2-get-1 on a category. Idempotent: each is matched by its name and made only when missing.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { query, type Database } from "@bazaar/platform";
import { PromotionSchema } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { createPromotionStore } from "./promotion-store.ts";

export interface SeedPromotionsOptions {
  /** The category of the buy-2-get-1 (e.g. the demo catalog's T-shirts); left out when undefined. */
  buyTwoGetOneCategoryId?: string;
}

export async function seedPromotions(database: Database, options: SeedPromotionsOptions = {}): Promise<{ created: string[] }> {
  const demo: Array<MessageInitShape<typeof PromotionSchema>> = [
    {
      name: "10 % off everything",
      description: "Demo: the storewide code SAVE10.",
      code: "SAVE10",
      conditions: { everything: true },
      action: { kind: { case: "orderPercentOff", value: { percentBps: 1000 } } },
    },
    {
      name: "Free shipping over $75 / €75",
      description: "Demo: automatic free shipping from a subtotal of 75.00.",
      automatic: true,
      conditions: { minimumSubtotal: [{ amountMinor: 7500n, currencyCode: "USD" }, { amountMinor: 7500n, currencyCode: "EUR" }] },
      action: { kind: { case: "freeShipping", value: {} } },
    },
    ...(options.buyTwoGetOneCategoryId
      ? [
          {
            name: "T-shirts: buy 2, get 1 free",
            description: "Demo: automatic, the cheapest of every three T-shirts is free.",
            automatic: true,
            conditions: { items: { categoryIds: [options.buyTwoGetOneCategoryId] }, minimumQuantity: 3 },
            action: { kind: { case: "buyXGetY", value: { buy: { categoryIds: [options.buyTwoGetOneCategoryId] }, buyQuantity: 2, getQuantity: 1, percentBps: 10_000 } } },
          } satisfies MessageInitShape<typeof PromotionSchema>,
        ]
      : []),
  ];
  const store = createPromotionStore(database);
  const existing = new Set((await query<{ name: string }>(database.em(), "select name from promotion where state <> 'archived'")).map((row) => row.name));
  const created: string[] = [];
  for (const spec of demo) {
    if (existing.has(spec.name!)) continue;
    await store.create(create(PromotionSchema, spec));
    created.push(spec.name!);
  }
  return { created };
}
