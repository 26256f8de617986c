import { collectDefaultMetrics, Registry } from "prom-client";

export type { Registry } from "prom-client";

/**
 * A Prometheus registry for one service instance (process metrics included), served at /metrics.
 * One per instance rather than the global one, so several instances can live in one test process.
 */
export function createMetricsRegistry(labels: { service: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
