// Checks handlers make about the caller, reading the principal the auth interceptor stored in the
// current call context. They throw domain errors; the errors interceptor turns them into
// `unauthenticated` / `permission_denied`.
import { currentCall } from "../call-context.ts";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.ts";
import type { Principal } from "../principal.ts";

/** Role that passes every ownership check (staff who act on any customer's behalf). */
export const ADMIN_ROLE = "admin";

/** The verified caller, if any (user or service). */
export function currentPrincipal(): Principal | undefined {
  return currentCall()?.principal;
}

/** Any authenticated caller, user or service. Anonymous → UnauthenticatedError. */
export function requirePrincipal(): Principal {
  const principal = currentPrincipal();
  if (!principal) throw new UnauthenticatedError("sign-in required", { reason: "AUTHENTICATION_REQUIRED" });
  return principal;
}

/** A signed-in person. Anonymous → UnauthenticatedError; a service token → PermissionDeniedError. */
export function requireUser(): Principal {
  const principal = requirePrincipal();
  if (principal.kind !== "user") throw new PermissionDeniedError("only a signed-in user may do this", { reason: "USER_REQUIRED" });
  return principal;
}

/** A caller (user or service) holding `role`. Anonymous → UnauthenticatedError; lacking it → PermissionDeniedError. */
export function requireRole(role: string): Principal {
  const principal = requirePrincipal();
  if (!principal.roles.includes(role)) throw new PermissionDeniedError(`requires the ${role} role`, { reason: "ROLE_REQUIRED" });
  return principal;
}

/** Whether the caller is a service acting on its own behalf or holds `role` (usually ADMIN_ROLE: staff). */
export function isServiceOrRole(principal: Principal | undefined, role: string): boolean {
  return principal !== undefined && (principal.kind === "service" || principal.roles.includes(role));
}

/**
 * A service, or a caller holding `role`: for work customers never do directly (reserving stock, moving
 * money). Anonymous → UnauthenticatedError; anyone else → PermissionDeniedError with `message` and the
 * reason SERVICE_OR_<ROLE>_REQUIRED.
 */
export function requireServiceOrRole(role: string, message = `only services and holders of the ${role} role may do this`): Principal {
  const principal = requirePrincipal();
  if (!isServiceOrRole(principal, role)) throw new PermissionDeniedError(message, { reason: `SERVICE_OR_${role.toUpperCase()}_REQUIRED` });
  return principal;
}

/**
 * A caller allowed to act on something owned by `ownerUserId`: that user, an admin, or a service acting
 * on its own behalf (event handlers and saga steps work on customers' things). Anonymous →
 * UnauthenticatedError; anyone else → PermissionDeniedError.
 *
 * Handlers that look the thing up first may prefer NotFoundError over this for strangers, so that ids
 * of other customers' things are not confirmed to exist.
 */
export function requireOwner(ownerUserId: string): Principal {
  const principal = requirePrincipal();
  if (isServiceOrRole(principal, ADMIN_ROLE)) return principal;
  if (ownerUserId === "" || principal.subject !== ownerUserId) {
    throw new PermissionDeniedError("this belongs to another user", { reason: "NOT_OWNER" });
  }
  return principal;
}
