import { propagation, ROOT_CONTEXT, type Context, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import type { MsgHdrs } from "nats";

// W3C trace context (traceparent, tracestate) carried from the publishing transaction, through the
// outbox row, onto the NATS message and into the consumer.

const setter: TextMapSetter<MsgHdrs> = { set: (carrier, key, value) => carrier.set(key, value) };
const getter: TextMapGetter<MsgHdrs> = {
  keys: (carrier) => carrier.keys(),
  get: (carrier, key) => carrier.get(key) || undefined,
};

/** The active (or given) context's trace headers as a plain object, for the outbox row. */
export function traceHeaders(context: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context, carrier);
  return carrier;
}

/** The context recorded in an outbox row's headers. */
export function contextFromRecord(headers: Record<string, string> | null | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers ?? {});
}

export function injectIntoMessage(context: Context, headers: MsgHdrs): void {
  propagation.inject(context, headers, setter);
}

export function contextFromMessage(headers: MsgHdrs | undefined): Context {
  return headers ? propagation.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
}
