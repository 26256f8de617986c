// Sampling: a ratio for new traces, the caller's decision for calls inside a trace (parent-based), so a
// trace is kept whole or not at all. Its own process: startTelemetry is one per process.
import test from "ava";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { sampleRatioFrom, startTelemetry } from "../src/telemetry/start-telemetry.ts";
import { startRequestSpan } from "../src/telemetry/request-span.ts";

const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ serviceName: "sampling-test", exporter, sampleRatio: 0 });
test.after.always(() => telemetry.shutdown());

async function front(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((request, response) => {
    const span = startRequestSpan(request, response);
    span.run(() => response.end(span.traceId));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test("with ratio 0 a new trace is not recorded, but still has an id for logs", async (t) => {
  const { url, close } = await front();
  t.teardown(close);
  const traceId = await (await fetch(url)).text();
  t.regex(traceId, /^[0-9a-f]{32}$/);
  await telemetry.forceFlush();
  t.deepEqual(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId), []);
});

test("a request inside a sampled trace is recorded whatever the ratio; one inside an unsampled trace is not", async (t) => {
  const { url, close } = await front();
  t.teardown(close);
  const sampled = "5b8efff798038103d269b633813fc60c";
  const unsampled = "6c9f0008a9149214e37ac744924fd71d";
  await fetch(url, { headers: { traceparent: `00-${sampled}-eee19b7ec3c1b174-01` } });
  await fetch(url, { headers: { traceparent: `00-${unsampled}-eee19b7ec3c1b174-00` } });
  await telemetry.forceFlush();
  const traces = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().traceId));
  t.true(traces.has(sampled));
  t.false(traces.has(unsampled));
});

test("the ratio comes from OTEL_TRACES_SAMPLER_ARG: unset is 1, anything but 0..1 is refused by name", (t) => {
  t.is(sampleRatioFrom(undefined), 1);
  t.is(sampleRatioFrom("0.1"), 0.1);
  for (const bad of ["2", "-0.5", "ten"]) t.throws(() => sampleRatioFrom(bad), { message: /OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1/ });
});
