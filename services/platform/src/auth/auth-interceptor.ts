import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { currentCall, runInCallContext } from "../call-context.ts";
import { UnauthenticatedError, UnavailableError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import type { Principal } from "../principal.ts";
import type { TokenVerifier } from "./token-verifier.ts";

/** The verified principal in Connect's context values (`ctx.values.get(principalKey)`), undefined when anonymous. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "bazaar principal" });

export interface AuthInterceptorOptions {
  /** Why a token was refused is logged here (never sent to the client). */
  logger?: Logger;
}

/**
 * A SERVER interceptor that verifies `Authorization: Bearer <token>`.
 * - No Authorization header: the call proceeds anonymously (handlers decide with requireUser() & co.).
 * - A header that is not a bearer token, or a token that does not verify: `unauthenticated`, with a
 *   generic message; the reason is logged.
 * - The JWKS cannot be fetched: `unavailable` (the caller may retry; its token may be fine).
 * - A valid token: the principal is stored in the current call context (`currentCall().principal`,
 *   read by requireUser() & co.) and in Connect's context values under `principalKey`.
 *
 * Place it after callContextInterceptor(), which makes a call context per call; the principal is set
 * on it. Without one, the handler runs in a minimal call context of its own (the request's signal, no
 * deadline) so the helpers still work for unary handlers.
 * Order: [serverTracing, redMetrics, errors, callContext, auth].
 */
export function authInterceptor(verifier: TokenVerifier, options: AuthInterceptorOptions = {}): Interceptor {
  return (next) => async (req) => {
    const header = req.header.get("authorization");
    if (header === null) return next(req);
    const procedure = `${req.service.typeName}/${req.method.name}`;
    const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i.exec(header);
    if (!match) {
      options.logger?.info({ procedure, reason: "Authorization header is not a bearer token" }, "refused credentials");
      throw new ConnectError("invalid credentials", Code.Unauthenticated);
    }
    let principal: Principal;
    try {
      principal = await verifier.verify(match[1]!);
    } catch (error) {
      if (error instanceof UnavailableError) {
        options.logger?.warn({ procedure, err: error }, "cannot verify credentials");
        throw new ConnectError("cannot verify credentials right now", Code.Unavailable);
      }
      options.logger?.info({ procedure, reason: error instanceof Error ? error.message : String(error) }, "refused credentials");
      // A revoked token is genuine: its holder is told why (sign in again), nothing about the keys leaks.
      if (error instanceof UnauthenticatedError && error.reason === "TOKEN_REVOKED") throw new ConnectError(error.message, Code.Unauthenticated);
      throw new ConnectError("invalid credentials", Code.Unauthenticated);
    }
    req.contextValues.set(principalKey, principal);
    const call = currentCall();
    if (call) {
      // The call-context interceptor made this object for this call (and binds a streaming handler's
      // reads to it), so the principal goes on it.
      call.principal = principal;
      return next(req);
    }
    return runInCallContext({ signal: req.signal, principal }, () => next(req));
  };
}
