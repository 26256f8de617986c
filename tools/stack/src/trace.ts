// `npm run trace [trace_id]`: a trace from the stack's Jaeger (its query API), drawn as a tree in the
// terminal; without an id, the latest traces through the edge. `--html FILE` writes the same trace as a
// waterfall page, `--png FILE` a picture of it (Debian's chromium through playwright-core). The trace
// id of any request is in the edge's access log (`trace_id`) and its `x-trace-id` response header.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface TraceSpan {
  spanId: string;
  parentId: string | undefined;
  service: string;
  name: string;
  kind: string;
  /** Microseconds since the epoch. */
  start: number;
  /** Microseconds. */
  duration: number;
  error: boolean;
  attributes: Record<string, unknown>;
  children: TraceSpan[];
  depth: number;
}

interface JaegerTrace {
  traceID: string;
  spans: {
    spanID: string;
    operationName: string;
    references: { refType: string; spanID: string }[];
    processID: string;
    startTime: number;
    duration: number;
    tags: { key: string; value: unknown }[];
  }[];
  processes: Record<string, { serviceName: string }>;
}

/** The trace's spans in tree order (each after its parent, siblings by start), with their depth. */
export function spanTree(trace: JaegerTrace): TraceSpan[] {
  const spans = new Map<string, TraceSpan>();
  for (const s of trace.spans) {
    const attributes = Object.fromEntries(s.tags.map((tag) => [tag.key, tag.value]));
    spans.set(s.spanID, {
      spanId: s.spanID,
      parentId: s.references.find((ref) => ref.refType === "CHILD_OF")?.spanID,
      service: trace.processes[s.processID]?.serviceName ?? "?",
      name: s.operationName,
      kind: String(attributes["span.kind"] ?? "internal"),
      start: s.startTime,
      duration: s.duration,
      error: attributes.error === true,
      attributes,
      children: [],
      depth: 0,
    });
  }
  const roots: TraceSpan[] = [];
  for (const span of spans.values()) {
    const parent = span.parentId ? spans.get(span.parentId) : undefined;
    if (parent) parent.children.push(span);
    else roots.push(span);
  }
  const ordered: TraceSpan[] = [];
  const visit = (span: TraceSpan, depth: number) => {
    span.depth = depth;
    ordered.push(span);
    for (const child of span.children.sort((a, b) => a.start - b.start)) visit(child, depth + 1);
  };
  for (const root of roots.sort((a, b) => a.start - b.start)) visit(root, 0);
  return ordered;
}

const ms = (micros: number) => `${(micros / 1000).toFixed(1)} ms`;

// The attributes worth a glance on one line; the rest are in Jaeger's JSON.
const shown = ["rpc.status_code", "messaging.consumer.group.name", "messaging.nats.stream_sequence", "http.response.status_code", "error.type"];

/** The tree as text: start offset, duration, service, kind and name, indented by depth. */
export function traceText(spans: TraceSpan[]): string {
  const t0 = Math.min(...spans.map((s) => s.start));
  const width = Math.max(...spans.map((s) => s.service.length));
  return spans
    .map((s) => {
      const extra = shown.filter((key) => s.attributes[key] !== undefined).map((key) => `${key}=${s.attributes[key]}`);
      return `${ms(s.start - t0).padStart(10)} ${ms(s.duration).padStart(10)}  ${s.service.padEnd(width)}  ${"  ".repeat(s.depth)}${s.kind.padEnd(8)} ${s.name}${s.error ? "  ERROR" : ""}${extra.length ? `  (${extra.join(", ")})` : ""}`;
    })
    .join("\n");
}

const palette = ["#2f6fde", "#d9480f", "#2b8a3e", "#ae3ec9", "#e8590c", "#1098ad", "#c2255c", "#5c940d", "#7048e8", "#f08c00", "#0b7285", "#862e9c"];
const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A standalone waterfall page of the trace: one row per span, a bar per span on a shared time axis. */
export function traceHtml(traceId: string, spans: TraceSpan[]): string {
  const t0 = Math.min(...spans.map((s) => s.start));
  const total = Math.max(...spans.map((s) => s.start + s.duration)) - t0 || 1;
  const services = [...new Set(spans.map((s) => s.service))];
  const colour = (service: string) => palette[services.indexOf(service) % palette.length];
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<span style="left:${f * 100}%">${ms(f * total)}</span>`).join("");
  const rows = spans
    .map((s) => {
      const left = ((s.start - t0) / total) * 100;
      const width = Math.max((s.duration / total) * 100, 0.3);
      return `<div class="row"><div class="label" style="padding-left:${8 + s.depth * 14}px"><b style="color:${colour(s.service)}">${escape(s.service)}</b> <i>${escape(s.kind)}</i> ${escape(s.name)}</div><div class="lane"><div class="bar${s.error ? " error" : ""}" style="left:${left}%;width:${width}%;background:${colour(s.service)}"></div><span class="dur" style="left:calc(${left + width}% + 4px)">${ms(s.duration)}</span></div></div>`;
    })
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>trace ${traceId}</title><style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#212529;background:#fff}
h1{font-size:16px;margin:0 0 4px}p{margin:0 0 12px;color:#495057}
.row{display:flex;border-bottom:1px solid #f1f3f5;height:24px;align-items:center}
.label{box-sizing:border-box;width:560px;flex:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.label i{color:#868e96;font-style:normal}
.lane{position:relative;flex:1;height:100%;border-left:1px solid #dee2e6;margin-right:90px}
.bar{position:absolute;top:6px;height:12px;border-radius:2px}.bar.error{outline:2px solid #e03131}
.dur{position:absolute;top:4px;font-size:11px;color:#495057;white-space:nowrap}
.axis{display:flex;margin:0 90px 0 560px;position:relative;height:18px;color:#868e96;font-size:11px}.axis span{position:absolute;transform:translateX(-50%);white-space:nowrap}
</style></head><body><h1>Trace ${traceId}</h1><p>${spans.length} spans · ${services.length} services (${services.map((s) => `<b style="color:${colour(s)}">${escape(s)}</b>`).join(", ")}) · ${ms(total)}</p>
<div class="axis">${ticks}</div>
${rows}
</body></html>`;
}

/** The trace from Jaeger's query API at `queryUrl`, or undefined when Jaeger does not know it. */
export async function fetchTrace(queryUrl: string, traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(new URL(`api/traces/${traceId}`, queryUrl));
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger answered ${response.status} for trace ${traceId}: ${await response.text()}`);
  return ((await response.json()) as { data: JaegerTrace[] }).data[0];
}

async function main(args: string[]): Promise<void> {
  const queryUrl = process.env.JAEGER_QUERY_URL ?? `http://127.0.0.1:${process.env.JAEGER_QUERY_PORT ?? 16686}/`;
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args.splice(at, 2)[1] : undefined;
  };
  const html = option("--html");
  const png = option("--png");
  const traceId = args[0];
  if (!traceId) {
    const response = await fetch(new URL("api/traces?service=edge&limit=20&lookback=1h", queryUrl));
    const traces = ((await response.json()) as { data: JaegerTrace[] }).data.map((trace) => ({ id: trace.traceID, root: spanTree(trace)[0]!, count: trace.spans.length }));
    for (const { id, root, count } of traces.sort((a, b) => b.root.start - a.root.start)) {
      console.log(`${id}  ${new Date(root.start / 1000).toISOString()}  ${ms(root.duration).padStart(10)}  ${String(count).padStart(3)} spans  ${root.name}`);
    }
    return;
  }
  const trace = await fetchTrace(queryUrl, traceId);
  if (!trace) throw new Error(`Jaeger at ${queryUrl} has no trace ${traceId} (sampled out, not exported yet — spans are sent in batches every few seconds — or older than its memory)`);
  const spans = spanTree(trace);
  console.log(traceText(spans));
  if (html) writeFileSync(html, traceHtml(traceId, spans));
  if (png) await screenshot(traceHtml(traceId, spans), png);
}

async function screenshot(page: string, file: string): Promise<void> {
  // playwright-core comes with the storefront's browser tests (edge/web); Debian's chromium drives it.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 400 }, deviceScaleFactor: 1 });
    await tab.setContent(page);
    await tab.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(path.resolve(process.argv[1] ?? "")).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`trace: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
