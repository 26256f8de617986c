// What a service answers when a call it made to another service failed and its handler let that
// failure escape. The dependency's answer is never passed through as it is: its code speaks of the
// dependency's request, not the caller's (a dependency's not_found or invalid_argument is a bug here,
// not something the caller got wrong), and its message describes another service's internals.
// Handlers that expect an answer (a declined payment, a missing reservation) translate it themselves
// into a domain error; this is the rule for everything they did not expect.
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

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
