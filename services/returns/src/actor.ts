// How the history names who acted, as the order service does: "customer", "staff:<user id>" or "system".
import { ADMIN_ROLE, isServiceOrRole, type Principal } from "@bazaar/platform";

export const isStaff = (principal: Principal | undefined) => isServiceOrRole(principal, ADMIN_ROLE);

export function actorOf(principal: Principal | undefined): string {
  if (principal?.kind === "service") return "system";
  if (principal?.roles.includes(ADMIN_ROLE)) return `staff:${principal.subject}`;
  return "customer";
}
