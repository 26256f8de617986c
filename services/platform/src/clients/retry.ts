// When an outgoing call may be tried again, how long to wait first, and how many retries a dependency may
// receive in all (the budget), so that retries help through a blip but never multiply the load on a
// dependency that is down.
import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";

export interface RetryOptions {
  /** Attempts per call, the first included. Default 3; 1 turns retries off. */
  maxAttempts?: number;
  /** Upper bound of the first retry's delay; doubles with each retry (full jitter). Default 50 ms. */
  initialBackoffMs?: number;
  /** Upper bound of any retry's delay. Default 1 000 ms. */
  maxBackoffMs?: number;
  /** Retries allowed per request made, over time (0.2 = 20 %). Default 0.2. */
  budgetRatio?: number;
  /** Retries allowed per second on top of the ratio, so rare calls can still retry. Default 10. */
  budgetMinPerSecond?: number;
  /** Most retries saved up for a burst. Default 20. */
  budgetMaxTokens?: number;
}

export type RetryPolicy = Required<RetryOptions>;

export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  const o = options || {};
  const policy: RetryPolicy = {
    maxAttempts: options === false ? 1 : (o.maxAttempts ?? 3),
    initialBackoffMs: o.initialBackoffMs ?? 50,
    maxBackoffMs: o.maxBackoffMs ?? 1_000,
    budgetRatio: o.budgetRatio ?? 0.2,
    budgetMinPerSecond: o.budgetMinPerSecond ?? 10,
    budgetMaxTokens: o.budgetMaxTokens ?? 20,
  };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`retry.${name} must be a finite number >= 0, got ${value}`);
  }
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new TypeError(`retry.maxAttempts must be an integer >= 1, got ${policy.maxAttempts}`);
  }
  return policy;
}

/** Only methods declared free of side effects, or safely repeatable, may run twice. */
export function isRetryableMethod(method: Pick<DescMethod, "idempotency">): boolean {
  return (
    method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    method.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  );
}

// Node error codes that mean the connection (not the server's logic) failed.
const connectionErrorCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * Whether the call failed because the instance could not be reached or the connection broke (refused,
 * reset, HTTP/2 session or stream torn down), as opposed to an answer from the server. Connect maps some
 * of these to `aborted` or `internal`; the client reports them as `unavailable`.
 */
export function isConnectionFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (connectionErrorCodes.has(code) || code.startsWith("ERR_HTTP2_"))) return true;
    // Connect's own mapping of RST_STREAM codes (REFUSED_STREAM, INTERNAL_ERROR…) when a session dies.
    if (e instanceof ConnectError && /^http\/2 stream closed with error code/.test(e.rawMessage)) return true;
  }
  return false;
}

/**
 * The request provably never reached a handler: the connection was refused, or the server refused the
 * HTTP/2 stream (as it does after GOAWAY while shutting down). Sending it again cannot run anything
 * twice, so this holds for every method, non-idempotent ones included (gRPC's "transparent retry").
 */
export function wasNeverDelivered(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if ((e as { code?: unknown }).code === "ECONNREFUSED") return true;
    if (/REFUSED_STREAM/.test(e instanceof ConnectError ? e.rawMessage : e.message)) return true;
  }
  return false;
}

/** `unavailable` from the server or the transport, and broken connections, are worth another attempt. */
export function isRetryableError(error: unknown): boolean {
  if (isConnectionFailure(error)) return true;
  return error instanceof ConnectError && error.code === Code.Unavailable;
}

/** Full jitter: a uniformly random delay up to min(max, initial × 2^(retry-1)); `retry` counts from 1. */
export function backoffMs(retry: number, policy: Pick<RetryPolicy, "initialBackoffMs" | "maxBackoffMs">, random = Math.random): number {
  const ceiling = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryBudget {
  /** Every call made deposits `ratio` of a retry. */
  recordRequest(): void;
  /** Takes one retry from the budget; false when it is spent. */
  tryRetry(): boolean;
}

/**
 * A token bucket: each request adds `budgetRatio` tokens, time adds `budgetMinPerSecond` per second, a
 * retry takes one, at most `budgetMaxTokens` are kept. So retries stay under ratio × requests plus a
 * small floor however many callers retry at once.
 */
export function createRetryBudget(
  policy: Pick<RetryPolicy, "budgetRatio" | "budgetMinPerSecond" | "budgetMaxTokens">,
  now: () => number = Date.now,
): RetryBudget {
  let tokens = policy.budgetMaxTokens;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(policy.budgetMaxTokens, tokens + ((t - last) / 1000) * policy.budgetMinPerSecond);
    last = t;
  };
  return {
    recordRequest() {
      refill();
      tokens = Math.min(policy.budgetMaxTokens, tokens + policy.budgetRatio);
    },
    tryRetry() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
