// A fetch that carries the active trace context (W3C `traceparent`, baggage) to the server it calls: for
// HTTP calls made inside a traced request without an RPC client, such as the edge's page rendering
// calling the edge's own API, so those calls are children in the request's trace.
import { context, propagation } from "@opentelemetry/api";

export function tracedFetch(fetchImpl: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    propagation.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
    return fetchImpl(input, { ...init, headers });
  };
}
