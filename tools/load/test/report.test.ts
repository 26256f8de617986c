// Percentiles per step from the HDR histograms, the per-second timeline, the JSON result and the chart.
import test from "ava";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chartHtml } from "../src/chart.ts";
import { parseOptions, type LoadOptions } from "../src/options.ts";
import { writeResult } from "../src/output.ts";
import { progressLine } from "../src/progress.ts";
import { createRecorder, percentilesOf } from "../src/recorder.ts";
import { resultOf, summaryText } from "../src/report.ts";

/** Within HDR's resolution: 3 significant digits (an answer is the top of its bucket, ≤ 0.1 % above). */
const near = (t: import("ava").ExecutionContext, actual: number, expected: number, what: string) => t.true(actual >= expected && actual <= expected * 1.001, `${what}: ${actual} vs ${expected}`);

/** A recorder on a clock the test moves: 3 seconds of known latencies. */
function recorded() {
  let now = 0;
  const recorder = createRecorder(() => now);
  // Second 0: browse 1..100 ms, one each; second 1: checkout 200 ms ×9 and one failure at 900 ms; second 2: one dropped.
  for (let ms = 1; ms <= 100; ms++) {
    recorder.step("browse", ms);
    recorder.journey(ms, false);
  }
  now = 1500;
  for (let i = 0; i < 9; i++) {
    recorder.step("checkout PlaceOrder", 200);
    recorder.journey(200, false);
  }
  recorder.step("checkout PlaceOrder", 900, "Unavailable");
  recorder.journey(900, true);
  now = 2100;
  recorder.dropped();
  return recorder;
}

test("percentiles per step come from the HDR histograms (3 significant digits)", (t) => {
  const recorder = recorded();
  const browse = percentilesOf(recorder.steps.get("browse")!.histogram);
  near(t, browse.p50, 50, "p50");
  near(t, browse.p90, 90, "p90");
  near(t, browse.p95, 95, "p95");
  near(t, browse.p99, 99, "p99");
  near(t, browse.max, 100, "max");
  t.true(Math.abs(browse.mean - 50.5) < 0.1);
  const placed = recorder.steps.get("checkout PlaceOrder")!;
  t.is(placed.count, 10);
  t.is(placed.errors, 1);
  t.deepEqual(placed.errorCodes, { Unavailable: 1 });
  near(t, percentilesOf(placed.histogram).p50, 200, "PlaceOrder p50");
  near(t, percentilesOf(placed.histogram).p99, 900, "PlaceOrder p99: the one slow call");
  t.deepEqual(recorder.totals(), { journeys: 110, errors: 1, dropped: 1 });
});

test("the JSON result holds totals, steps and the per-second timeline; the chart is one self-contained HTML file next to it", (t) => {
  const recorder = recorded();
  const options = parseOptions(["--rate", "50", "--duration", "3", "--url", "http://shop.test:8080"]) as LoadOptions;
  const result = resultOf(options, { recorder, catalog: { categoryIds: ["c"], products: [{ slug: "s", sku: "S", name: "n" }], searchTerms: [] }, startedAt: new Date("2026-12-07T22:00:00Z"), elapsedSeconds: 3, stoppedBy: "duration" });
  t.is(result.target, "http://shop.test:8080/");
  t.is(result.totals.journeys, 110);
  t.is(result.totals.errors, 1);
  t.is(result.totals.dropped, 1);
  t.is(result.totals.errorRatio, 2 / 111);
  t.is(result.totals.journeysPerSecond, 36.67);
  t.deepEqual(Object.keys(result.steps), ["browse", "checkout PlaceOrder"]);
  t.deepEqual(
    result.timeline.map((b) => [b.second, b.journeys, b.errors, b.dropped, Math.round(b.p50Ms)]),
    [
      [0, 100, 0, 0, 50],
      [1, 10, 1, 0, 200],
      [2, 0, 0, 1, 0],
    ],
  );
  t.regex(summaryText(result), /browse\s+100\s+0\s+50\.0\s+90\.0\s+95\.0\s+99\.0\s+100\.0/);
  t.regex(summaryText(result), /110 journeys in 3\.0 s .* 1 failed, 1 dropped/);

  const dir = mkdtempSync(path.join(tmpdir(), "bazaar-load-report-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const written = writeResult(result, path.join(dir, "nested", "run.json"));
  t.is(written.chart, path.join(dir, "nested", "run.html"));
  t.deepEqual(JSON.parse(readFileSync(written.json, "utf8")), JSON.parse(JSON.stringify(result)));
  t.true(existsSync(written.chart));
  const html = readFileSync(written.chart, "utf8");
  t.is(html, chartHtml(result));
  t.regex(html, /^<!doctype html>/);
  t.is((html.match(/<svg /g) ?? []).length, 2, "latency over time and throughput");
  t.notRegex(html, /<script|src="http|href="http/, "nothing to load: it opens offline");
  t.regex(html, /<td>checkout PlaceOrder<\/td><td>10<\/td><td>1<\/td>/);
  // The throughput line goes through 100 journeys in second 0, the highest point of its chart.
  t.regex(html, /journeys\/s/);
});

test("the live line shows the last second's rate, recent p50/p99 and the errors", (t) => {
  const recorder = recorded();
  const line = progressLine(recorder, 2.2, 10);
  t.regex(line, /^2\/10s {2}10 journeys\/s {2}p50 \d+\.\d ms {2}p99 \d+\.\d ms {2}errors 2 \(1\.80%\) {2}total 110$/);
});
