// Returns' own metrics, beside the platform's RED metrics: returns entering each status, the money
// refunded for them, units restocked and labels bought.
import { Counter } from "prom-client";
import type { Registry } from "@bazaar/platform";

export interface ReturnsMetrics {
  /** One per return entering a status (REQUESTED, APPROVED, …). */
  moves: Counter<"status">;
  /** Minor units refunded for returns, by currency. */
  refunded: Counter<"currency">;
  /** Resellable returned units inventory took back. */
  restocked: Counter;
  /** Return labels bought through shipping. */
  labels: Counter;
}

export function returnsMetrics(registry: Registry): ReturnsMetrics {
  return {
    moves: new Counter({ name: "returns_moves_total", help: "Returns entering a status, by status", labelNames: ["status"], registers: [registry] }),
    refunded: new Counter({ name: "returns_refunded_minor_total", help: "Money refunded for returns, in minor units, by currency", labelNames: ["currency"], registers: [registry] }),
    restocked: new Counter({ name: "returns_restocked_units_total", help: "Resellable returned units put back to stock", registers: [registry] }),
    labels: new Counter({ name: "returns_labels_total", help: "Return labels bought through the shipping service", registers: [registry] }),
  };
}
