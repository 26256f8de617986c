// Who may reach a cart: its user; a guest holding its token; admins and services any cart. Everyone
// else is told the cart does not exist, so cart ids are never confirmed.
import { ADMIN_ROLE, InvalidArgumentError, isServiceOrRole, NotFoundError, type Principal } from "@bazaar/platform";
import { cartTokenMatches } from "./cart-token.ts";
import type { CartRow } from "./carts.ts";

export interface Caller {
  principal: Principal | undefined;
  /** The `x-cart-token` header, empty when absent. */
  cartToken: string;
}

/** Which cart a request means: one by id, or the signed-in user's active cart (an empty cart_id). */
export type CartTarget = { kind: "id"; id: string } | { kind: "user"; userId: string };

export function mayAccess(cart: CartRow, caller: Caller): boolean {
  if (isServiceOrRole(caller.principal, ADMIN_ROLE)) return true;
  if (cart.user_id !== null) return caller.principal?.kind === "user" && caller.principal.subject === cart.user_id;
  return cartTokenMatches(caller.cartToken, cart.token_hash);
}

/** The cart a request with `cartId` (already validated when not empty) addresses. */
export function targetOf(caller: Caller, cartId: string): CartTarget {
  if (cartId !== "") return { kind: "id", id: cartId };
  if (caller.principal?.kind === "user") return { kind: "user", userId: caller.principal.subject };
  throw new InvalidArgumentError({ field: "cart_id", description: "is required without a signed-in user" });
}

export const cartNotFound = (target: CartTarget) =>
  new NotFoundError(target.kind === "id" ? `cart ${target.id} not found` : "you have no active cart", { reason: "CART_NOT_FOUND" });
