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

/** A closed-loop load (a fixed number in flight, see runOpenLoad for a fixed arrival rate): `concurrency` workers each send the next request as soon as one returns. */
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

export interface OpenLoadOptions {
  /** One request; rejects on failure. */
  call: () => Promise<unknown>;
  /** Requests started per second, on a fixed schedule whether or not earlier ones have returned. */
  ratePerSecond: number;
  /** Measured period (default 10 s), after a warm-up (default 2 s) whose requests are dropped. */
  durationMs?: number;
  warmupMs?: number;
}

export interface OpenLoadResult extends LoadResult {
  /** The rate asked for. */
  offeredPerSecond: number;
}

/**
 * An open-loop load: request i is due at start + i / rate and is started then, however many are still
 * in flight, so a slow server cannot slow the arrivals down (no coordinated omission). Each latency runs
 * from the request's scheduled start, so time spent queued — in the server or behind a late timer of
 * this generator — counts. Requests due in the measured period are measured, and waited for to the end;
 * `perSecond` is the rate at which they completed successfully, over the measured period or until the
 * last of them finished if that was later (below the offered rate when the server cannot keep up).
 */
export async function runOpenLoad(options: OpenLoadOptions): Promise<OpenLoadResult> {
  const { call, ratePerSecond, durationMs = 10_000, warmupMs = 2_000 } = options;
  if (!(ratePerSecond > 0)) throw new TypeError(`ratePerSecond must be > 0, got ${ratePerSecond}`);
  const intervalMs = 1000 / ratePerSecond;
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + durationMs;
  let lastFinished = end;

  function launch(scheduled: number) {
    const measured = scheduled >= measureFrom;
    const done = call().then(
      () => {
        if (!measured) return;
        const now = performance.now();
        lastFinished = Math.max(lastFinished, now);
        latencies.push(now - scheduled);
      },
      () => {
        if (measured) errors += 1;
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }

  let next = 0;
  for (;;) {
    const now = performance.now();
    // Start everything that is due (several at once when the timer fired late).
    while (start + next * intervalMs <= now && start + next * intervalMs < end) launch(start + next++ * intervalMs);
    const due = start + next * intervalMs;
    if (due >= end) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  await Promise.all(inFlight);
  return { ...summarize(latencies, errors, lastFinished - measureFrom), offeredPerSecond: ratePerSecond };
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
