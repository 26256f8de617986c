// What a service answers when a call it made to another service failed and its handler let that
// failure escape. The dependency's answer is never passed through as it is: its code speaks of the
// dependency's request, not the caller's (a dependency's not_found or invalid_argument is a bug here,
// not something the caller got wrong), and its message describes another service's internals.
// Handlers that expect an answer (a declined payment, a missing reservation) translate it themselves
// into a domain error; this is the rule for everything they did not expect.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { UnavailableError } from "./errors.ts";

/** The procedure ("package.Service/Method") each failure came back from. */
const origins = new WeakMap<ConnectError, string>();

/**
 * A CLIENT interceptor marking every failure of a call as the dependency's, so that the server side
 * (toConnectError) can tell it from an error this service decided on.
 */
export function downstreamErrorsInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      const connectError = ConnectError.from(error);
      origins.set(connectError, `${req.service.typeName}/${req.method.name}`);
      throw connectError;
    }
  };
}

/** The procedure `error` came back from, if it is a dependency's failure. */
export function downstreamProcedure(error: ConnectError): string | undefined {
  return origins.get(error);
}

/**
 * The answer for a dependency's failure that reached the caller's handler boundary: a retryable one
 * (unavailable, resource_exhausted) stays retryable as `unavailable`; `aborted` (a concurrent change
 * there) stays `aborted`; the caller's own deadline or cancellation stays what it is; anything else is
 * this service's `internal` error — undefined here, for the caller to report as unexpected.
 */
export function fromDownstream(error: ConnectError): ConnectError | undefined {
  switch (error.code) {
    case Code.Canceled:
    case Code.DeadlineExceeded:
      return error;
    case Code.Unavailable:
    case Code.ResourceExhausted:
      return new ConnectError("a service this request needs is unavailable; try again", Code.Unavailable);
    case Code.Aborted:
      return new ConnectError("a concurrent change interfered with this request; try again", Code.Aborted);
    default:
      return undefined;
  }
}

/** What a failed call to another service answered: its Connect code and google.rpc.ErrorInfo reason. */
export interface CallFailure {
  code: Code;
  /** The callee's reason (e.g. "INSUFFICIENT_FUNDS"), when it gave one. */
  reason: string | undefined;
  error: ConnectError;
}

/** The code and reason of a failed call, for handlers that expect some answers (a decline, a missing thing). */
export function failureOf(error: unknown): CallFailure {
  const e = ConnectError.from(error);
  return { code: e.code, reason: e.findDetails(ErrorInfoSchema)[0]?.reason, error: e };
}

/**
 * A dependency's `unavailable` as this service's: when the dependency answered it itself, because a
 * service behind it failed, it said which (its reason and message) and that is carried up; without a
 * reason it could not be reached at all (or gave no detail), and `service` is named
 * (reason `<SERVICE>_UNAVAILABLE`).
 */
export function dependencyUnavailable(service: string, error: unknown, consequence = "nothing was done"): UnavailableError {
  const { reason, error: e } = failureOf(error);
  if (reason) return new UnavailableError(`${e.rawMessage} (${consequence})`, { reason, cause: e });
  return new UnavailableError(`the ${service} service cannot be reached; ${consequence} — try again`, { reason: `${service.toUpperCase()}_UNAVAILABLE`, cause: e });
}
