// Promotion's own metrics, beside the platform's RED metrics: redemptions by outcome (the refusals by
// reason show a campaign running out), money given away, and how long one cart evaluation takes.
import { Counter, Histogram } from "prom-client";
import type { Registry } from "@bazaar/platform";

export interface PromotionMetrics {
  /** One per promotion an order redeems: outcome "redeemed" or the refusal's reason. */
  redemptions: Counter<"outcome">;
  /** Minor units given away by redemptions as recorded (releases are counted apart), by currency. */
  givenAway: Counter<"currency">;
  released: Counter;
  evaluationSeconds: Histogram;
}

export function promotionMetrics(registry: Registry): PromotionMetrics {
  return {
    redemptions: new Counter({ name: "promotion_redemptions_total", help: "Redemptions asked for, by outcome (redeemed or the refusal's reason)", labelNames: ["outcome"], registers: [registry] }),
    givenAway: new Counter({ name: "promotion_given_away_minor_total", help: "Discount given by redemptions, in minor units, by currency", labelNames: ["currency"], registers: [registry] }),
    released: new Counter({ name: "promotion_redemptions_released_total", help: "Redemptions given back (orders rejected or cancelled)", registers: [registry] }),
    evaluationSeconds: new Histogram({
      name: "promotion_evaluation_seconds",
      help: "EvaluateCart: reading the candidates and evaluating the cart",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
  };
}
