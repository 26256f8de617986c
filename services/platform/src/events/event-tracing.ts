// Event tracing: each delivery handled in a consumer span that continues the trace its headers carry.
import { SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { JsMsg } from "nats";
import { contextFromMessage } from "./trace-headers.ts";

const tracer = () => trace.getTracer("@bazaar/platform");

/** Runs `fn` in a consumer span of `durable` for `message`, continuing the trace of its headers. */
export function tracedDelivery<T>(durable: string, message: JsMsg, eventId: string | undefined, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(
    `process ${message.subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": message.subject,
        "messaging.consumer.group.name": durable,
        "messaging.message.delivery_count": message.info.deliveryCount,
        "messaging.nats.stream_sequence": message.info.streamSequence,
        ...(eventId ? { "messaging.message.id": eventId } : {}),
      },
    },
    contextFromMessage(message.headers),
    async (span) => {
      try {
        return await fn();
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Marks `span` (default: the active one) failed with `error`. */
export function recordFailure(span: Span | undefined, error: unknown): void {
  span?.recordException(error as Error);
  span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
}
