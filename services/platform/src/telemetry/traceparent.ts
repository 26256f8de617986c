/** The trace id of a W3C `traceparent` header ("00-<32 hex>-<16 hex>-<2 hex>"), or undefined when it is not one. */
export function traceIdOf(traceparent: string | null | undefined): string | undefined {
  return /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent ?? "")?.[1];
}
