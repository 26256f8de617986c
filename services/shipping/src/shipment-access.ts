// Who may read a shipment: staff (admins) and services any; a signed-in customer their own; a guest
// the shipments of the order whose cart token they present (x-cart-token). Anyone else is told the
// shipment does not exist, so ids are not confirmed.
import { createHash, timingSafeEqual } from "node:crypto";
import { ADMIN_ROLE, isServiceOrRole, NotFoundError, type Principal } from "@bazaar/platform";
import type { ShipmentView } from "./shipments.ts";

function tokenMatches(token: string, storedHash: string): boolean {
  if (token === "" || storedHash === "") return false;
  const presented = createHash("sha256").update(token).digest();
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}

export function mayRead(shipment: ShipmentView, principal: Principal | undefined, cartToken: string): boolean {
  if (isServiceOrRole(principal, ADMIN_ROLE)) return true;
  if (principal?.kind === "user" && shipment.userId !== "" && principal.subject === shipment.userId) return true;
  return shipment.userId === "" && tokenMatches(cartToken, shipment.cartTokenHash);
}

export function readable(shipment: ShipmentView, principal: Principal | undefined, cartToken: string): ShipmentView {
  if (!mayRead(shipment, principal, cartToken)) throw new NotFoundError(`no shipment ${shipment.id}`, { reason: "SHIPMENT_NOT_FOUND" });
  return shipment;
}
