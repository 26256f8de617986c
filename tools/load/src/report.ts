// The end of a run: the JSON result (plain data, stable field names) and the table printed at the end.
import type { LoadOptions } from "./options.ts";
import { mergedSeconds, percentilesOf } from "./recorder.ts";
import type { RunOutcome } from "./run.ts";

export interface StepResult {
  count: number;
  errors: number;
  errorCodes: Record<string, number>;
  latencyMs: ReturnType<typeof percentilesOf>;
}

export interface LoadResult {
  tool: "bazaar-load";
  target: string;
  startedAt: string;
  elapsedSeconds: number;
  stoppedBy: RunOutcome["stoppedBy"];
  options: { mode: LoadOptions["mode"]; durationSeconds: number; maxRequests: number; maxInFlight: number; timeoutMs: number; weights: LoadOptions["weights"]; currencyCode: string; seed: number };
  catalog: { categories: number; products: number; searchTerms: number };
  totals: { journeys: number; errors: number; dropped: number; errorRatio: number; journeysPerSecond: number; latencyMs: ReturnType<typeof percentilesOf> };
  /** Journeys ("browse") and their calls ("browse ListProducts"), sorted by name. */
  steps: Record<string, StepResult>;
  /** Per second since the start: journeys ended, failed, dropped and their latency. */
  timeline: { second: number; journeys: number; errors: number; dropped: number; p50Ms: number; p95Ms: number; p99Ms: number }[];
  knee?: RunOutcome["knee"];
}

export function resultOf(options: LoadOptions, outcome: RunOutcome): LoadResult {
  const { recorder } = outcome;
  const all = mergedSeconds(recorder.seconds, 0, recorder.seconds.length);
  const steps: Record<string, StepResult> = {};
  for (const name of [...recorder.steps.keys()].sort()) {
    const s = recorder.steps.get(name)!;
    steps[name] = { count: s.count, errors: s.errors, errorCodes: s.errorCodes, latencyMs: percentilesOf(s.histogram) };
  }
  return {
    tool: "bazaar-load",
    target: options.baseUrl.href,
    startedAt: outcome.startedAt.toISOString(),
    elapsedSeconds: Math.round(outcome.elapsedSeconds * 1000) / 1000,
    stoppedBy: outcome.stoppedBy,
    options: { mode: options.mode, durationSeconds: options.durationSeconds, maxRequests: options.maxRequests, maxInFlight: options.maxInFlight, timeoutMs: options.timeoutMs, weights: options.weights, currencyCode: options.currencyCode, seed: options.seed },
    catalog: { categories: outcome.catalog.categoryIds.length, products: outcome.catalog.products.length, searchTerms: outcome.catalog.searchTerms.length },
    totals: {
      journeys: all.journeys,
      errors: all.errors,
      dropped: all.dropped,
      errorRatio: (all.errors + all.dropped) / Math.max(1, all.journeys + all.dropped),
      journeysPerSecond: Math.round((all.journeys / Math.max(0.001, outcome.elapsedSeconds)) * 100) / 100,
      latencyMs: percentilesOf(all.histogram),
    },
    steps,
    timeline: recorder.seconds.map((b) => {
      const p = percentilesOf(b.histogram);
      return { second: b.second, journeys: b.journeys, errors: b.errors, dropped: b.dropped, p50Ms: p.p50, p95Ms: p.p95, p99Ms: p.p99 };
    }),
    ...(outcome.knee ? { knee: outcome.knee } : {}),
  };
}

/** The table printed at the end: one row per step, then totals (and the knee). */
export function summaryText(result: LoadResult): string {
  const rows = Object.entries(result.steps).map(([name, s]) => [name, String(s.count), String(s.errors), ...[s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p95, s.latencyMs.p99, s.latencyMs.max].map((v) => v.toFixed(1))]);
  const header = ["step", "count", "errors", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const t = result.totals;
  const lines = [
    line(header),
    ...rows.map(line),
    "",
    `${t.journeys} journeys in ${result.elapsedSeconds.toFixed(1)} s (${t.journeysPerSecond}/s), ${t.errors} failed, ${t.dropped} dropped (${(t.errorRatio * 100).toFixed(2)}%); journey p50 ${t.latencyMs.p50} ms, p99 ${t.latencyMs.p99} ms; stopped by ${result.stoppedBy}`,
  ];
  if (result.knee) {
    for (const s of result.knee.stages) lines.push(`  step ${s.rate}/s: achieved ${s.achieved.toFixed(1)}/s, p95 ${s.p95Ms} ms, errors ${(s.errorRatio * 100).toFixed(2)}% — ${s.held ? "held" : "failed"}`);
    lines.push(result.knee.kneeRate === null ? `knee: below the first step (${result.knee.ended})` : `knee: ${result.knee.kneeRate}/s (search ended by ${result.knee.ended})`);
  }
  return lines.join("\n");
}
