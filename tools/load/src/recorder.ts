// What a run measured: an HDR histogram (microseconds, 3 significant digits) per journey step over
// the whole run, and per-second buckets (count, errors, a histogram of their own) for the live line,
// the knee search and the chart.
import { build, type Histogram } from "hdr-histogram-js";

const newHistogram = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

export interface StepStats {
  count: number;
  errors: number;
  /** Error counts by Connect code (or "network", "refused", "timeout"…). */
  errorCodes: Record<string, number>;
  histogram: Histogram;
}

export interface SecondBucket {
  /** Seconds since the run started. */
  second: number;
  /** Journeys ended in this second. */
  journeys: number;
  errors: number;
  /** Arrivals dropped (open loop, too many in flight). */
  dropped: number;
  histogram: Histogram;
}

export interface Recorder {
  /** A step (a journey, or one call within it, e.g. "checkout PlaceOrder") took `ms`; `error` names its failure. */
  step(name: string, ms: number, error?: string): void;
  /** A whole journey ended (once per journey, after its steps). */
  journey(ms: number, failed: boolean): void;
  dropped(): void;
  steps: Map<string, StepStats>;
  seconds: SecondBucket[];
  startedAt: number;
  /** Journeys ended so far, and of them failed; dropped arrivals. */
  totals(): { journeys: number; errors: number; dropped: number };
}

export function createRecorder(now: () => number = () => performance.now()): Recorder {
  const startedAt = now();
  const steps = new Map<string, StepStats>();
  const seconds: SecondBucket[] = [];
  let journeys = 0;
  let errors = 0;
  let dropped = 0;
  const bucket = (): SecondBucket => {
    const second = Math.floor((now() - startedAt) / 1000);
    while (seconds.length <= second) seconds.push({ second: seconds.length, journeys: 0, errors: 0, dropped: 0, histogram: newHistogram() });
    return seconds[second]!;
  };
  return {
    steps,
    seconds,
    startedAt,
    step(name, ms, error) {
      let stats = steps.get(name);
      if (!stats) steps.set(name, (stats = { count: 0, errors: 0, errorCodes: {}, histogram: newHistogram() }));
      stats.count += 1;
      stats.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
      if (error !== undefined) {
        stats.errors += 1;
        stats.errorCodes[error] = (stats.errorCodes[error] ?? 0) + 1;
      }
    },
    journey(ms, failed) {
      const b = bucket();
      journeys += 1;
      b.journeys += 1;
      b.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
      if (failed) {
        errors += 1;
        b.errors += 1;
      }
    },
    dropped() {
      dropped += 1;
      bucket().dropped += 1;
    },
    totals: () => ({ journeys, errors, dropped }),
  };
}

/** Percentiles in milliseconds of one histogram (microseconds inside). */
export function percentilesOf(h: Histogram): { p50: number; p90: number; p95: number; p99: number; p999: number; max: number; mean: number } {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    // The top of the max's bucket, as the percentiles answer (maxValue is its bottom).
    max: ms(h.getValueAtPercentile(100)),
    mean: ms(h.mean),
  };
}

/** One histogram of the buckets from `from` (inclusive) to `to` (exclusive) seconds. */
export function mergedSeconds(seconds: SecondBucket[], from: number, to: number): { journeys: number; errors: number; dropped: number; histogram: Histogram } {
  const histogram = newHistogram();
  let journeys = 0;
  let errors = 0;
  let dropped = 0;
  for (const b of seconds.slice(from, to)) {
    histogram.add(b.histogram);
    journeys += b.journeys;
    errors += b.errors;
    dropped += b.dropped;
  }
  return { journeys, errors, dropped, histogram };
}
