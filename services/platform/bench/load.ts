import { performance } from "node:perf_hooks";

export interface LoadOptions {
  /** One request; rejects on failure. */
  call: () => Promise<unknown>;
  /** Requests in flight at once (default 32). */
  concurrency?: number;
  /** Measured period (default 10 s), after a warm-up (default 2 s) whose results are dropped. */
  durationMs?: number;
  warmupMs?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** A closed-loop load: `concurrency` workers each send the next request as soon as one returns. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { call, concurrency = 32, durationMs = 10_000, warmupMs = 2_000 } = options;
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + durationMs;
  async function worker() {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await call();
        if (measuring) latencies.push(performance.now() - t0);
      } catch {
        if (measuring) errors += 1;
      }
      if (!measuring && performance.now() >= measureFrom) measuring = true;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return summarize(latencies, errors, durationMs);
}

export function summarize(latencies: number[], errors: number, durationMs: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    requests: sorted.length,
    errors,
    perSecond: sorted.length / (durationMs / 1000),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}
