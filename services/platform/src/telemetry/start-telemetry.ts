// OpenTelemetry for a service process: traces only (metrics are Prometheus via prom-client, logs are
// pino JSON carrying trace ids). Call it first thing in main.ts, before anything creates spans.
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";

export interface TelemetryOptions {
  /** `service.name` of every span. */
  serviceName: string;
  /** `service.version`, when known. */
  serviceVersion?: string;
  /** Also send spans here as each ends (SimpleSpanProcessor): tests (InMemorySpanExporter) and debugging. */
  exporter?: SpanExporter;
  /**
   * OTLP/HTTP (protobuf) base endpoint, e.g. "http://otel-collector:4318" (spans go to `<endpoint>/v1/traces`,
   * batched). Default: OTEL_EXPORTER_OTLP_ENDPOINT. Without one (nor `exporter`), spans are still made,
   * so logs and error messages carry trace ids, but go nowhere.
   */
  otlpEndpoint?: string;
  /**
   * Share of new traces recorded, 0..1; a call that arrives inside a trace follows its caller's decision
   * (parent-based), so a trace is recorded whole or not at all. Default: OTEL_TRACES_SAMPLER_ARG, else 1
   * (everything, as locally; the prod overlay sets 0.1).
   */
  sampleRatio?: number;
}

export interface Telemetry {
  /** Exports every span ended so far (exports wait for resource detection, so they can lag). */
  forceFlush(): Promise<void>;
  /** Flushes pending spans and unregisters the SDK (a later startTelemetry starts afresh). */
  shutdown(): Promise<void>;
}

let active: Telemetry | undefined;

/**
 * Starts OpenTelemetry's tracing SDK: W3C trace-context (and baggage) propagation, an AsyncLocalStorage
 * context manager, a tracer provider with the exporters above. Idempotent: while started, further
 * calls return the running instance (their options are ignored).
 *
 * Registered by hand rather than through @opentelemetry/sdk-node's NodeSDK: that one loads every
 * exporter it could be configured with (gRPC, Zipkin, Prometheus, logs, metrics) whether used or not,
 * about 8 MiB of heap and 20 MiB of RSS in each process, to register these same three parts.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  if (active) return active;
  const endpoint = options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const spanProcessors: SpanProcessor[] = [];
  if (options.exporter) spanProcessors.push(new SimpleSpanProcessor({ exporter: options.exporter }));
  if (endpoint) {
    const url = `${endpoint.replace(/\/+$/, "")}/v1/traces`;
    // Batched off the request path: a slow or dead collector costs a failed export now and then (its
    // spans dropped once the queue is full), never a request's time.
    spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url, timeoutMillis: 5_000 }) }));
  }
  // A provider with nothing to export to still gives every request a trace id (for logs, error messages).
  if (spanProcessors.length === 0) spanProcessors.push(new NoopSpanProcessor());

  const provider = new TracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? sampleRatioFrom(process.env.OTEL_TRACES_SAMPLER_ARG)) }),
    // What NodeSDK would detect (OTEL_RESOURCE_ATTRIBUTES, the process, the host), then the service's name.
    resource: defaultResource()
      .merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }))
      .merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: options.serviceName,
          ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
        }),
      ),
    spanProcessors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);

  let stopping: Promise<void> | undefined;
  const telemetry: Telemetry = {
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopping ??= provider.shutdown().finally(() => {
        trace.disable();
        propagation.disable();
        context.disable();
        if (active === telemetry) active = undefined;
      });
      return stopping;
    },
  };
  active = telemetry;
  return telemetry;
}

/** OTEL_TRACES_SAMPLER_ARG as a ratio; unset means 1. Anything but a number from 0 to 1 is refused by name. */
export function sampleRatioFrom(text: string | undefined): number {
  if (text === undefined || text.trim() === "") return 1;
  const ratio = Number(text);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new RangeError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got ${JSON.stringify(text)})`);
  return ratio;
}
