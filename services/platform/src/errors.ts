// Domain errors: what went wrong in the business's words. Handlers and domain code throw these; the
// error interceptor maps them to Connect codes in exactly one place (docs/architecture.md §2).

/** One invalid request field: a path such as "lines[2].quantity" and what is wrong with it. */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface DomainErrorOptions {
  cause?: unknown;
  /** Machine-readable reason in UPPER_SNAKE_CASE (sent as google.rpc.ErrorInfo), e.g. "OUT_OF_STOCK". */
  reason?: string;
  /** Facts the caller can act on, sent with the reason in google.rpc.ErrorInfo's metadata, e.g. { order_id }. */
  metadata?: Record<string, string>;
}

export abstract class DomainError extends Error {
  readonly reason: string | undefined;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  constructor(message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
    this.metadata = options.metadata;
  }
}

/** The thing asked for does not exist (or the caller may not know it does). → not_found */
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
}

/** A thing with the same identity exists already. → already_exists */
export class AlreadyExistsError extends DomainError {
  override name = "AlreadyExistsError";
}

/** The request is malformed; names each offending field. → invalid_argument */
export class InvalidArgumentError extends DomainError {
  override name = "InvalidArgumentError";
  readonly violations: readonly FieldViolation[];
  constructor(violations: FieldViolation[] | FieldViolation, options: DomainErrorOptions = {}) {
    const list = Array.isArray(violations) ? violations : [violations];
    super(list.map((v) => `${v.field}: ${v.description}`).join("; ") || "invalid request", options);
    this.violations = list;
  }
}

/** The system is not in a state that allows this; retrying will not help until it changes. → failed_precondition */
export class FailedPreconditionError extends DomainError {
  override name = "FailedPreconditionError";
}

/** A concurrent change won (stale etag, lost race); the client may retry the whole read-modify-write. → aborted */
export class ConflictError extends DomainError {
  override name = "ConflictError";
}

/** No credentials, or credentials that do not verify. → unauthenticated */
export class UnauthenticatedError extends DomainError {
  override name = "UnauthenticatedError";
}

/** Valid credentials that do not allow this. → permission_denied */
export class PermissionDeniedError extends DomainError {
  override name = "PermissionDeniedError";
}

/** A limit or quota was reached; `retryAfterMs` says when trying again may work. → resource_exhausted */
export class ResourceExhaustedError extends DomainError {
  override name = "ResourceExhaustedError";
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: DomainErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A dependency is down; the same request may succeed later. → unavailable */
export class UnavailableError extends DomainError {
  override name = "UnavailableError";
}
