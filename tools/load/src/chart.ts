// The chart a person opens after a run: one self-contained HTML file (inline SVG, no script, no
// network) with latency over time (journey p50/p95/p99 per second), throughput (journeys/s, failed
// and dropped) and the per-step percentile table.
import type { LoadResult } from "./report.ts";

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series {
  label: string;
  color: string;
  values: number[];
}

/** One SVG line chart of `series` over the timeline's seconds. */
export function lineChart(title: string, unit: string, seconds: number[], series: Series[]): string {
  const width = 900;
  const height = 260;
  const pad = { left: 60, right: 20, top: 30, bottom: 40 };
  const maxX = Math.max(1, ...seconds);
  const maxY = Math.max(1e-9, ...series.flatMap((s) => s.values)) * 1.1;
  const x = (v: number) => pad.left + (v / maxX) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / maxY) * (height - pad.top - pad.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const grid = ticks.map((v) => `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/><text x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v < 10 ? v.toFixed(1) : Math.round(v)}</text>`);
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * maxX)).map((s) => `<text x="${x(s).toFixed(1)}" y="${height - pad.bottom + 16}" text-anchor="middle" font-size="11">${s}s</text>`);
  // Drawn highest first, so a lower percentile on the same values stays visible on top.
  const lines = [...series].reverse().map((s) => `<polyline fill="none" stroke="${s.color}" stroke-width="1.8" points="${s.values.map((v, i) => `${x(seconds[i]!).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"><title>${escape(s.label)}</title></polyline>`);
  const legend = series.map((s, i) => `<rect x="${pad.left + i * 150}" y="8" width="12" height="12" fill="${s.color}"/><text x="${pad.left + i * 150 + 18}" y="18" font-size="12">${escape(s.label)}</text>`);
  return `<figure><figcaption>${escape(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escape(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif">
<text x="14" y="${height / 2}" font-size="11" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">${escape(unit)}</text>
${grid.join("\n")}
${xTicks.join("\n")}
${lines.join("\n")}
${legend.join("\n")}
</svg></figure>`;
}

export function chartHtml(result: LoadResult): string {
  const seconds = result.timeline.map((b) => b.second);
  const latency = lineChart("Journey latency over time", "ms", seconds, [
    { label: "p50", color: "#2a9d8f", values: result.timeline.map((b) => b.p50Ms) },
    { label: "p95", color: "#e9c46a", values: result.timeline.map((b) => b.p95Ms) },
    { label: "p99", color: "#e76f51", values: result.timeline.map((b) => b.p99Ms) },
  ]);
  const throughput = lineChart("Throughput", "journeys/s", seconds, [
    { label: "journeys/s", color: "#264653", values: result.timeline.map((b) => b.journeys) },
    { label: "failed/s", color: "#d62828", values: result.timeline.map((b) => b.errors) },
    { label: "dropped/s", color: "#9d4edd", values: result.timeline.map((b) => b.dropped) },
  ]);
  const rows = Object.entries(result.steps)
    .map(([name, s]) => `<tr><td>${escape(name)}</td><td>${s.count}</td><td>${s.errors}</td>${[s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p95, s.latencyMs.p99, s.latencyMs.max].map((v) => `<td>${v.toFixed(1)}</td>`).join("")}</tr>`)
    .join("\n");
  const t = result.totals;
  const knee = result.knee ? `<p>Knee: <strong>${result.knee.kneeRate === null ? "below the first step" : `${result.knee.kneeRate} journeys/s`}</strong> (search ended by ${escape(result.knee.ended)}).</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bazaar load — ${escape(result.target)} — ${escape(result.startedAt)}</title>
<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right;border-bottom:1px solid #eee}td:first-child,th:first-child{text-align:left}figcaption{font-weight:bold;margin:1em 0 .3em}</style>
</head><body>
<h1>Bazaar load run</h1>
<p>${escape(result.target)} · started ${escape(result.startedAt)} · ${result.elapsedSeconds.toFixed(1)} s · ${escape(JSON.stringify(result.options.mode))}</p>
<p>${t.journeys} journeys (${t.journeysPerSecond}/s), ${t.errors} failed, ${t.dropped} dropped (${(t.errorRatio * 100).toFixed(2)}%) · journey p50 ${t.latencyMs.p50} ms, p95 ${t.latencyMs.p95} ms, p99 ${t.latencyMs.p99} ms</p>
${knee}
${latency}
${throughput}
<table><thead><tr><th>step</th><th>count</th><th>errors</th><th>p50 ms</th><th>p90 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>
${rows}
</tbody></table>
</body></html>
`;
}
