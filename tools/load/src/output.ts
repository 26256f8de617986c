// Where a run's result goes: the JSON file asked for, and the chart next to it with the same name.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chartHtml } from "./chart.ts";
import type { LoadResult } from "./report.ts";

/** Writes `<out>` (JSON) and the chart next to it; returns both paths. */
export function writeResult(result: LoadResult, out: string): { json: string; chart: string } {
  const json = path.resolve(out);
  const chart = json.replace(/\.json$/i, "") + ".html";
  mkdirSync(path.dirname(json), { recursive: true });
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(chart, chartHtml(result));
  return { json, chart };
}
