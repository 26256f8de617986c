// Who may see and act on an order: its customer, a guest proving the cart with its token, staff
// (admins) and services. Everyone else is told the order does not exist (NOT_FOUND), so order ids of
// other customers are never confirmed.
import { ADMIN_ROLE, isServiceOrRole, NotFoundError, type Principal } from "@bazaar/platform";
import { sha256 } from "./idempotency.ts";
import type { OrderRecord } from "./orders.ts";

export const isStaff = (principal: Principal | undefined) => isServiceOrRole(principal, ADMIN_ROLE);

export function mayAccess(order: OrderRecord, principal: Principal | undefined, cartToken: string): boolean {
  if (isStaff(principal)) return true;
  if (principal?.kind === "user" && order.userId !== "" && order.userId === principal.subject) return true;
  return order.cartTokenHash !== undefined && cartToken !== "" && sha256(cartToken) === order.cartTokenHash;
}

/** The order, when the caller may reach it; NOT_FOUND otherwise (also for an unknown id). */
export function accessible(order: OrderRecord | undefined, id: string, principal: Principal | undefined, cartToken: string): OrderRecord {
  if (!order || !mayAccess(order, principal, cartToken)) throw new NotFoundError(`order ${id} not found`);
  return order;
}

/** How the history names who acted: "customer", "staff:<user id>" or "system" (a service). */
export function actorOf(principal: Principal | undefined): string {
  if (principal?.kind === "service") return "system";
  if (principal?.roles.includes(ADMIN_ROLE)) return `staff:${principal.subject}`;
  return "customer";
}
