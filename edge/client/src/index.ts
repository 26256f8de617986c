// @bazaar/client: typed Connect clients for Bazaar's public API through the edge, over connect-web's
// Connect transport (browsers and Node ≥ 18 fetch), with sign-in and transparent token refresh.
import { createClient, type Client } from "@connectrpc/connect";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { NotificationService } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { ShippingService } from "@bazaar/contracts/bazaar/shipping/v1/shipping_service_pb";
import { ReturnsService } from "@bazaar/contracts/bazaar/returns/v1/returns_service_pb";

export { IdentityService, CatalogService, InventoryService, CartService, OrderService, NotificationService, ShippingService, ReturnsService };

import type { BazaarClientOptions } from "./options.ts";
import { createBazaarSession, type BazaarSession } from "./session.ts";

export type { BazaarClientOptions, GuestCart, SignInStep, Tokens } from "./options.ts";
export { createBazaarSession, type BazaarSession };

/** Every public service's client on one session (sign-in, refresh, guest cart). */
export interface BazaarClient extends BazaarSession {
  identity: Client<typeof IdentityService>;
  catalog: Client<typeof CatalogService>;
  inventory: Client<typeof InventoryService>;
  /** Carts: a guest's calls carry the token of the cart CreateCart gave them. */
  cart: Client<typeof CartService>;
  orders: Client<typeof OrderService>;
  /** A user's notification preferences and delivery log; Unsubscribe works signed out. */
  notifications: Client<typeof NotificationService>;
  /** Shipments and tracking of the caller's orders (a guest's with the cart token); staff's fulfilment. */
  shipping: Client<typeof ShippingService>;
  /** Returns of delivered orders (a guest's with the order's cart token); staff's approval, receipt and refund. */
  returns: Client<typeof ReturnsService>;
}

export function createBazaarClient(options: BazaarClientOptions): BazaarClient {
  const session = createBazaarSession(options);
  const { transport } = session;
  return {
    ...session,
    identity: createClient(IdentityService, transport),
    catalog: createClient(CatalogService, transport),
    inventory: createClient(InventoryService, transport),
    cart: createClient(CartService, transport),
    orders: createClient(OrderService, transport),
    notifications: createClient(NotificationService, transport),
    shipping: createClient(ShippingService, transport),
    returns: createClient(ReturnsService, transport),
  };
}
