// The one place where domain errors become Connect codes (docs/architecture.md §2). Handlers throw the classes of
// errors.ts; this interceptor turns them into ConnectErrors with google.rpc details, a dependency's
// failure into this service's answer (downstream-errors.ts), and anything unexpected into a generic
// `internal` error whose full story goes to the log, never to the client.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { trace } from "@opentelemetry/api";
import {
  AlreadyExistsError,
  ConflictError,
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  type FieldViolation,
} from "./errors.ts";
import { isDatabaseConnectionLost } from "./data/connection-errors.ts";
import { downstreamProcedure, fromDownstream } from "./downstream-errors.ts";
import type { Logger } from "./logger.ts";
import { traceIdOf } from "./telemetry/traceparent.ts";

export interface ErrorsInterceptorOptions {
  /** Where unexpected errors (with stack and trace id) and expected ones (at debug) are logged. */
  logger: Logger;
  /** `domain` of the google.rpc.ErrorInfo sent with a reason. Default "bazaar". */
  domain?: string;
}

/**
 * A SERVER interceptor mapping what handlers throw to ConnectErrors. Place it inside the tracing and
 * metrics interceptors (later in the array), so they see the mapped code and its log lines carry the
 * trace id.
 */
export function errorsInterceptor(options: ErrorsInterceptorOptions): Interceptor {
  return (next) => async (req) => {
    const map = (error: unknown) =>
      // The caller's trace id names the failure even where no tracing SDK runs (tests, a bare embedder).
      toConnectError(error, { logger: options.logger, domain: options.domain, procedure: procedureOf(req), signal: req.signal, traceId: traceIdOf(req.header.get("traceparent")) });
    let res;
    try {
      res = await next(req);
    } catch (error) {
      throw map(error);
    }
    // A streaming handler fails while its messages are read, after `next` returned.
    return res.stream ? { ...res, message: mapErrors(res.message, map) } : res;
  };
}

export interface ToConnectErrorOptions {
  logger: Logger;
  /** Default "bazaar". */
  domain?: string | undefined;
  /** "package.Service/Method", for the log. */
  procedure?: string | undefined;
  /** The call's signal: an error caused by its abort is reported as the abort (canceled / deadline_exceeded). */
  signal?: AbortSignal | undefined;
  /** The trace id to log and name when no span is active (outside an RPC, e.g. a server's front). */
  traceId?: string | undefined;
}

/** The ConnectError a client should see for `error` (also usable outside an RPC, e.g. by the edge). */
export function toConnectError(error: unknown, options: ToConnectErrorOptions): ConnectError {
  const downstream = error instanceof ConnectError ? downstreamProcedure(error) : undefined;
  if (error instanceof ConnectError) {
    if (downstream === undefined) return error;
    const mapped = fromDownstream(error);
    if (mapped) {
      options.logger.warn({ procedure: options.procedure, downstream, downstream_code: Code[error.code], err: error }, "a dependency failed");
      return mapped;
    }
    // Any other answer of a dependency is one this service did not expect: a bug, reported as such.
  }
  const domain = options.domain ?? "bazaar";
  // A lost or refused database connection (restart, failover): the same request may succeed soon.
  if (!(error instanceof DomainError) && !(error instanceof ConnectError) && isDatabaseConnectionLost(error)) {
    options.logger.warn({ err: error, procedure: options.procedure }, "database connection lost");
    error = new UnavailableError("the database is unavailable; try again", { cause: error });
  }
  if (error instanceof DomainError) {
    const mapped = fromDomainError(error, domain);
    if (mapped) {
      options.logger.debug({ err: error, procedure: options.procedure, code: Code[mapped.code] }, "request failed");
      return mapped;
    }
  }
  // The handler gave up because the caller hung up or its deadline passed: say so, it is not a bug.
  if (options.signal?.aborted && (error === options.signal.reason || isAbortError(error))) {
    return ConnectError.from(options.signal.reason, Code.Canceled);
  }
  const traceId = activeTraceId() ?? options.traceId;
  options.logger.error({ err: error, procedure: options.procedure, trace_id: traceId, ...(downstream ? { downstream } : {}) }, "unexpected error");
  if (error instanceof Error) trace.getActiveSpan()?.recordException(error);
  // Nothing from the error itself: its message or stack may hold internals.
  return new ConnectError(traceId ? `internal error (trace id ${traceId})` : "internal error", Code.Internal);
}

function fromDomainError(error: DomainError, domain: string): ConnectError | undefined {
  const details: ConstructorParameters<typeof ConnectError>[3] = [];
  let code: Code;
  if (error instanceof NotFoundError) code = Code.NotFound;
  else if (error instanceof AlreadyExistsError) code = Code.AlreadyExists;
  else if (error instanceof InvalidArgumentError) {
    code = Code.InvalidArgument;
    details.push({
      desc: BadRequestSchema,
      value: { fieldViolations: error.violations.map((v) => ({ field: v.field, description: v.description })) },
    });
  } else if (error instanceof FailedPreconditionError) code = Code.FailedPrecondition;
  else if (error instanceof ConflictError) code = Code.Aborted;
  else if (error instanceof UnauthenticatedError) code = Code.Unauthenticated;
  else if (error instanceof PermissionDeniedError) code = Code.PermissionDenied;
  else if (error instanceof ResourceExhaustedError) {
    code = Code.ResourceExhausted;
    if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs) && error.retryAfterMs >= 0) {
      const ms = Math.ceil(error.retryAfterMs);
      details.push({
        desc: RetryInfoSchema,
        value: { retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } },
      });
    }
  } else if (error instanceof UnavailableError) code = Code.Unavailable;
  else return undefined; // a DomainError subclass this mapping does not know: treated as unexpected
  if (error.reason) details.push({ desc: ErrorInfoSchema, value: { reason: error.reason, domain, metadata: { ...error.metadata } } });
  // Domain messages are written for the caller; the cause (e.g. a driver error) stays server-side.
  return new ConnectError(error.message, code, undefined, details);
}

/**
 * Collects request field violations, then throws them all at once as one InvalidArgumentError:
 *
 *     const v = violations();
 *     v.check(req.quantity > 0, "quantity", "must be positive");
 *     v.check(isUuid(req.productId), "product_id", "must be a UUID");
 *     v.throwIfAny();
 */
export interface Violations {
  /** Records a violation unless `ok` is truthy; returns whether it was ok (to skip dependent checks). */
  check(ok: unknown, field: string, description: string): boolean;
  add(field: string, description: string): void;
  readonly list: readonly FieldViolation[];
  /** Throws InvalidArgumentError carrying every recorded violation, if any. */
  throwIfAny(): void;
}

export function violations(): Violations {
  const list: FieldViolation[] = [];
  const add = (field: string, description: string) => void list.push({ field, description });
  return {
    check(ok, field, description) {
      if (!ok) add(field, description);
      return Boolean(ok);
    },
    add,
    list,
    throwIfAny() {
      if (list.length > 0) throw new InvalidArgumentError([...list]);
    },
  };
}

async function* mapErrors<T>(messages: AsyncIterable<T>, map: (error: unknown) => ConnectError): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (error) {
    throw map(error);
  }
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}

function activeTraceId(): string | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? context.traceId : undefined;
}

function procedureOf(req: { service: { typeName: string }; method: { name: string } }): string {
  return `${req.service.typeName}/${req.method.name}`;
}
