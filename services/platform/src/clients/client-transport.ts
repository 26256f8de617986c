// A Connect Transport that sends each call, over gRPC on cleartext HTTP/2, to one of a service's passing
// instances; retries calls that are safe to repeat; and bounds every call by the deadline and signal of
// the call being handled (call-context.ts), so deadlines and cancellation flow down the mesh.
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, type Interceptor, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import { createGrpcTransport, type Http2SessionOptions } from "@connectrpc/connect-node";
import { createAsyncIterable } from "@connectrpc/connect/protocol";
import { currentCall } from "../call-context.ts";
import type { Endpoint, EndpointSnapshot } from "./balancer.ts";
import type { ServiceInstance } from "./consul-watch.ts";
import {
  backoffMs,
  isConnectionFailure,
  isRetryableError,
  isRetryableMethod,
  retryPolicy,
  wasNeverDelivered,
  type RetryOptions,
} from "./retry.ts";
import { acquirePool, type PoolTarget } from "./service-pool.ts";

/** Where calls go: a Consul service's passing instances, or one fixed address (a Kubernetes Service, a test server). */
export type ClientTarget =
  | {
      /** Consul HTTP API, "host:port" or "http://host:port". */
      consulAddr: string;
      /** Consul service name to call. */
      serviceName: string;
      /** Consul ACL token. Default: CONSUL_HTTP_TOKEN (none when unset). */
      consulToken?: string;
      /** How long one blocking query may wait for a change. Default 30 s. */
      watchWaitSeconds?: number;
      address?: undefined;
    }
  | {
      /** "http://host:port" (cleartext HTTP/2) or "https://host:port". */
      address: string;
      consulAddr?: undefined;
      serviceName?: undefined;
    };

export interface ClientTransportOptions {
  /** Client interceptors (trace context, credentials…), run again on every attempt. Default none. */
  interceptors?: Interceptor[];
  /** Timeout of calls that set none themselves; the handled call's deadline still applies. Default none. */
  defaultTimeoutMs?: number;
  /** Retries of NO_SIDE_EFFECTS/IDEMPOTENT methods on `unavailable`; false turns them off. Defaults in RetryOptions. */
  retry?: RetryOptions | false;
  /** Consecutive connection failures that take an instance out of rotation. Default 3. */
  ejectAfterFailures?: number;
  /** How long a first ejection lasts; doubles with each repeated ejection. Default 1 000 ms. */
  ejectionBaseMs?: number;
  /** The longest ejection. Default 30 000 ms. */
  ejectionMaxMs?: number;
  /** How long a call with no deadline waits for Consul's first answer. Default 10 000 ms. */
  discoveryTimeoutMs?: number;
  /**
   * HTTP/2 keepalive per instance connection. Default: PING every 30 s while calls are open (and before
   * reusing a connection idle that long), dropped after 10 s without answer, so a peer that vanished
   * without closing its sockets fails calls (and gets ejected) instead of hanging them; idle close 15 min.
   */
  http2?: Http2SessionOptions;
}

export interface ClientTransport extends Transport {
  /** What it calls, for messages and logs. */
  readonly description: string;
  /** The instances it balances across, with their in-flight counts and ejections. */
  endpoints(): EndpointSnapshot[];
  /** Lets go of the shared watch and HTTP/2 sessions (closed when no other transport uses them). Idempotent. */
  close(): void;
}

type RequestHeader = Parameters<Transport["unary"]>[3];

// gRPC's grpc-timeout carries at most 8 digits.
const maxTimeoutMs = 99_999_999;

interface CallScope {
  signal: AbortSignal | undefined;
  /** Absolute, epoch ms. */
  deadline: number | undefined;
}

/** Creates a transport for one target. Transports with equal target and pool options share one watch and one HTTP/2 session per instance. */
export function createClientTransport(options: ClientTarget & ClientTransportOptions): ClientTransport {
  const target = validateTarget(options);
  const policy = retryPolicy(options.retry);
  const discoveryTimeoutMs = options.discoveryTimeoutMs ?? 10_000;
  const defaultTimeoutMs = options.defaultTimeoutMs;
  if (defaultTimeoutMs !== undefined && !(defaultTimeoutMs > 0)) throw new TypeError(`defaultTimeoutMs must be > 0, got ${defaultTimeoutMs}`);
  if (!(discoveryTimeoutMs > 0)) throw new TypeError(`discoveryTimeoutMs must be > 0, got ${discoveryTimeoutMs}`);
  const interceptors = options.interceptors ?? [];
  const pool = acquirePool({
    target,
    balancer: {
      ejectAfterFailures: options.ejectAfterFailures ?? 3,
      ejectionBaseMs: options.ejectionBaseMs ?? 1_000,
      ejectionMaxMs: options.ejectionMaxMs ?? 30_000,
    },
    budget: { budgetRatio: policy.budgetRatio, budgetMinPerSecond: policy.budgetMinPerSecond, budgetMaxTokens: policy.budgetMaxTokens },
    http2: { pingIntervalMs: 30_000, pingTimeoutMs: 10_000, ...options.http2 },
  });
  // One Connect transport per instance, over the pool's shared session, carrying this client's interceptors.
  const transports = new WeakMap<Endpoint<ServiceInstance>, Transport>();
  let closed = false;

  function transportOf(endpoint: Endpoint<ServiceInstance>): Transport {
    let transport = transports.get(endpoint);
    if (!transport) {
      transport = createGrpcTransport({
        baseUrl: endpoint.instance.url,
        sessionManager: pool.session(endpoint),
        interceptors,
        // Inside the mesh, compressing costs more CPU than it saves bandwidth: ask for plain responses.
        acceptCompression: [],
      });
      transports.set(endpoint, transport);
    }
    return transport;
  }

  function scope(signal: AbortSignal | undefined, timeoutMs: number | undefined): CallScope {
    if (closed) throw new ConnectError(`the client of ${pool.description} is closed`, Code.Unavailable);
    const handled = currentCall();
    // Connect's convention: undefined means "the default", zero or less means "none".
    const own = timeoutMs === undefined ? defaultTimeoutMs : timeoutMs > 0 ? timeoutMs : undefined;
    let deadline = own === undefined ? undefined : Date.now() + own;
    if (handled?.deadline !== undefined) deadline = deadline === undefined ? handled.deadline : Math.min(deadline, handled.deadline);
    const signals = [signal, handled?.signal].filter((s): s is AbortSignal => s !== undefined);
    const combined = signals.length < 2 ? signals[0] : AbortSignal.any(signals);
    if (combined?.aborted) throw ConnectError.from(combined.reason, Code.Canceled);
    return { signal: combined, deadline };
  }

  /** What is left of the deadline for the next attempt (undefined: none), or DEADLINE_EXCEEDED. */
  function attemptTimeout(call: CallScope, what: string): number | undefined {
    if (call.deadline === undefined) return undefined;
    const left = Math.floor(call.deadline - Date.now());
    if (left <= 0) throw new ConnectError(`deadline exceeded before ${what} could be sent to ${pool.description}`, Code.DeadlineExceeded);
    return Math.min(left, maxTimeoutMs);
  }

  async function discover(call: CallScope): Promise<void> {
    if (pool.balancer.size() > 0) return;
    const byDeadline = call.deadline !== undefined && call.deadline - Date.now() < discoveryTimeoutMs;
    const limit = Math.max(0, byDeadline ? call.deadline! - Date.now() : discoveryTimeoutMs);
    const timeout = AbortSignal.timeout(limit);
    try {
      await pool.ready(call.signal ? AbortSignal.any([call.signal, timeout]) : timeout);
    } catch (error) {
      if (call.signal?.aborted) throw ConnectError.from(call.signal.reason, Code.Canceled);
      const cause = pool.discoveryError();
      throw new ConnectError(
        `${pool.description}: no answer from Consul within ${Math.round(limit)} ms${byDeadline ? " (the call's deadline)" : ""}` +
          (cause ? ` (last error: ${cause.message})` : ""),
        Code.Unavailable,
        undefined,
        undefined,
        cause ?? error,
      );
    }
  }

  function pick(tried: ReadonlySet<string>): Endpoint<ServiceInstance> {
    const endpoint = pool.balancer.pick(tried);
    if (!endpoint) throw new ConnectError(`no passing instances of ${pool.description}`, Code.Unavailable);
    return endpoint;
  }

  /** Books the outcome against the instance and returns the error to surface. */
  function judge(endpoint: Endpoint<ServiceInstance>, error: unknown, call: CallScope): ConnectError {
    // Our own cancellation or deadline says nothing about the instance.
    if (call.signal?.aborted) return ConnectError.from(call.signal.reason, Code.Canceled);
    if (isConnectionFailure(error)) {
      pool.balancer.connectionFailed(endpoint);
      const { id, url } = endpoint.instance;
      const which = id === url ? "" : ` instance ${id} at ${url}`;
      return new ConnectError(`${pool.description}:${which} unreachable: ${rootMessage(error)}`, Code.Unavailable, undefined, undefined, error);
    }
    const connectError = ConnectError.from(error);
    if (connectError.code !== Code.DeadlineExceeded && connectError.code !== Code.Canceled) pool.balancer.reached(endpoint);
    return connectError;
  }

  /** Whether to try again after `attempt` failed with `error`; waits out the backoff when so. */
  async function retryAfter(call: CallScope, attempt: number, error: unknown): Promise<boolean> {
    if (attempt >= policy.maxAttempts || call.signal?.aborted || !isRetryableError(error)) return false;
    const delay = backoffMs(attempt, policy);
    if (call.deadline !== undefined && Date.now() + delay >= call.deadline) return false;
    if (!pool.budget.tryRetry()) return false;
    await sleep(delay, call.signal);
    return true;
  }

  return {
    description: pool.description,
    endpoints: () => pool.balancer.snapshot(),
    close() {
      if (closed) return;
      closed = true;
      pool.release();
    },

    async unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: RequestHeader,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const call = scope(signal, timeoutMs);
      await discover(call);
      pool.budget.recordRequest();
      const retryable = policy.maxAttempts > 1 && isRetryableMethod(method);
      const tried = new Set<string>();
      for (let attempt = 1; ; attempt++) {
        const endpoint = pick(tried);
        tried.add(endpoint.instance.id);
        const timeout = attemptTimeout(call, method.name);
        pool.begin(endpoint);
        let failure: ConnectError;
        let neverDelivered = false;
        try {
          const response = await transportOf(endpoint).unary(method, call.signal, timeout, header, input, contextValues);
          pool.balancer.reached(endpoint);
          return response;
        } catch (error) {
          neverDelivered = wasNeverDelivered(error);
          failure = judge(endpoint, error, call);
        } finally {
          pool.end(endpoint);
        }
        // A request no handler saw may go to another instance whatever the method: it runs at most once.
        if (!(retryable || neverDelivered) || !(await retryAfter(call, attempt, failure))) throw failure;
      }
    },

    async stream<I extends DescMessage, O extends DescMessage>(
      method: DescMethodStreaming<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: RequestHeader,
      input: AsyncIterable<MessageInitShape<I>>,
      contextValues?: ContextValues,
    ): Promise<StreamResponse<I, O>> {
      const call = scope(signal, timeoutMs);
      await discover(call);
      pool.budget.recordRequest();
      // Only a server stream's request (one message) can be sent again; and only until a message arrived.
      const retryable = policy.maxAttempts > 1 && isRetryableMethod(method) && method.methodKind === "server_streaming";
      const request: MessageInitShape<I>[] = [];
      if (retryable) for await (const message of input) request.push(message);
      const tried = new Set<string>();
      for (let attempt = 1; ; attempt++) {
        const endpoint = pick(tried);
        tried.add(endpoint.instance.id);
        const timeout = attemptTimeout(call, method.name);
        pool.begin(endpoint);
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          call.signal?.removeEventListener("abort", end);
          pool.end(endpoint);
        };
        let failure: ConnectError;
        try {
          const body = retryable ? createAsyncIterable(request) : input;
          const response = await transportOf(endpoint).stream(method, call.signal, timeout, header, body, contextValues);
          const messages = response.message[Symbol.asyncIterator]();
          // Wait for the first message (or the end) while another attempt is still possible.
          const first = retryable ? await messages.next() : undefined;
          pool.balancer.reached(endpoint);
          // A stream abandoned by its reader ends with the call's signal.
          call.signal?.addEventListener("abort", end, { once: true });
          return { ...response, message: follow(messages, first, end, (error) => judge(endpoint, error, call)) };
        } catch (error) {
          end();
          failure = judge(endpoint, error, call);
        }
        if (!retryable || !(await retryAfter(call, attempt, failure))) throw failure;
      }
    },
  };
}

/** The stream's messages (starting with one already read), booking its end and errors. */
function follow<T>(
  messages: AsyncIterator<T>,
  first: IteratorResult<T> | undefined,
  end: () => void,
  judge: (error: unknown) => ConnectError,
): AsyncIterable<T> {
  let pending = first;
  return {
    [Symbol.asyncIterator]: () => ({
      async next() {
        try {
          const result = pending ?? (await messages.next());
          pending = undefined;
          if (result.done) end();
          return result;
        } catch (error) {
          end();
          throw judge(error);
        }
      },
    }),
  };
}

function validateTarget(options: ClientTarget): PoolTarget {
  const hasAddress = options.address !== undefined;
  const hasConsul = options.consulAddr !== undefined;
  if (hasAddress === hasConsul) {
    throw new TypeError('give either { consulAddr, serviceName } (discovery through Consul) or { address: "http://host:port" }, not both or neither');
  }
  if (hasAddress) return { address: options.address! };
  if (typeof options.serviceName !== "string" || options.serviceName === "") throw new TypeError("serviceName must be a non-empty Consul service name");
  return {
    consulAddr: options.consulAddr!,
    serviceName: options.serviceName,
    ...(options.consulToken ? { consulToken: options.consulToken } : {}),
    ...(options.watchWaitSeconds ? { watchWaitSeconds: options.watchWaitSeconds } : {}),
  };
}

/** The innermost message of an error chain ("connect ECONNREFUSED 127.0.0.1:4000"). */
function rootMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    message = e instanceof ConnectError ? e.rawMessage : e.message;
  }
  return message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(ConnectError.from(signal!.reason, Code.Canceled));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
