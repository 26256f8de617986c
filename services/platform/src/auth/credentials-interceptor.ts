import type { Interceptor } from "@connectrpc/connect";
import { currentCall } from "../call-context.ts";
import type { ServiceCredentials } from "./service-credentials.ts";

/**
 * A CLIENT interceptor that sets `Authorization` on outgoing calls:
 * - made while handling a call from a signed-in user: that user's token, so the callee checks the
 *   user's rights (ownership) itself;
 * - otherwise (event handlers, saga steps, calls on a service's behalf): a service token from
 *   `serviceCredentials`; without credentials, the current caller's service token if there is one,
 *   else nothing (the call is anonymous).
 * With `asService`, always this service's own token (steps a service takes on its own authority, such
 * as a checkout reserving stock for a customer who may not reserve it directly); without credentials
 * such calls go out anonymous and the callee refuses what needs a service.
 * An Authorization header set explicitly on the call is left alone.
 */
export function credentialsInterceptor(serviceCredentials?: ServiceCredentials, options: { asService?: boolean } = {}): Interceptor {
  return (next) => async (req) => {
    if (!req.header.has("authorization")) {
      const principal = currentCall()?.principal;
      const token = options.asService
        ? await serviceCredentials?.token()
        : principal?.kind === "user"
          ? principal.token
          : serviceCredentials
            ? await serviceCredentials.token()
            : principal?.token;
      if (token) req.header.set("authorization", `Bearer ${token}`);
    }
    return next(req);
  };
}
