// The one API client of the pages: @bazaar/client's session (generated descriptors over connect-web,
// guest cart token, sign-in and refresh) with clients of only the services the first page calls, so
// the browser bundle carries no other service's descriptors (pages loaded on demand make clients of
// theirs on the same transport: orders.ts). At the edge's own origin: in the browser the
// page's, on the server the edge that renders.
import { createBazaarSession, type BazaarClientOptions, type BazaarSession, type GuestCart } from "@bazaar/client";
import { createClient, type Client } from "@connectrpc/connect";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { setSession } from "./session.ts";

export interface ShopClient extends BazaarSession {
  catalog: Client<typeof CatalogService>;
  cart: Client<typeof CartService>;
  identity: Client<typeof IdentityService>;
}

function createShopClient(options: BazaarClientOptions): ShopClient {
  const session = createBazaarSession(options);
  return {
    ...session,
    catalog: createClient(CatalogService, session.transport),
    cart: createClient(CartService, session.transport),
    identity: createClient(IdentityService, session.transport),
  };
}

let serverBaseUrl: (() => string) | undefined;
let serverFetch: typeof globalThis.fetch | undefined;
let serverClient: ShopClient | undefined;
let browserClient: ShopClient | undefined;

/** Server side: where the rendering edge answers the API (itself, over loopback), and the fetch to call it with. */
export function setServerBaseUrl(baseUrl: () => string, fetch?: typeof globalThis.fetch): void {
  serverBaseUrl = baseUrl;
  serverFetch = fetch;
  serverClient = undefined;
}

const guestCartKey = "bazaar.guestCart";

function storedGuestCart(): GuestCart | undefined {
  try {
    const raw = window.localStorage.getItem(guestCartKey);
    return raw ? (JSON.parse(raw) as GuestCart) : undefined;
  } catch {
    return undefined;
  }
}

/** The client for loaders and event handlers; anonymous on the server (public reads only). */
export function api(): ShopClient {
  if (typeof window === "undefined") {
    if (!serverBaseUrl) throw new Error("web: the server's API base URL is not set");
    serverClient ??= createShopClient({ baseUrl: serverBaseUrl(), ...(serverFetch ? { fetch: serverFetch } : {}) });
    return serverClient;
  }
  // The guest cart's id and token live in localStorage so the cart survives reloads; it is no
  // credential of an account. The access token is held in memory only, and the refresh token in the
  // edge's httpOnly cookie (refreshCookie), never in storage.
  browserClient ??= createShopClient({
    baseUrl: window.location.origin,
    refreshCookie: true,
    onTokens: (tokens) => setSession(tokens ? { kind: "signed-in", userId: tokens.userId ?? "" } : { kind: "signed-out" }),
    guestCart: storedGuestCart(),
    onGuestCart: (cart) => (cart ? window.localStorage.setItem(guestCartKey, JSON.stringify(cart)) : window.localStorage.removeItem(guestCartKey)),
  });
  return browserClient;
}

/** The edge's readable marker that a session cookie exists (edge/src/refresh-cookie.ts). */
const signedInCookie = /(?:^|;\s*)bazaar_signed_in=1(?:;|$)/;

let resuming: Promise<void> | undefined;

/** Once per page load: signs back in from the edge's cookie when there is one. */
export function resumeSession(): Promise<void> {
  resuming ??= (async () => {
    if (!signedInCookie.test(document.cookie)) return setSession({ kind: "signed-out" });
    const resumed = await api().resume().catch(() => false);
    if (!resumed) setSession({ kind: "signed-out" });
  })();
  return resuming;
}

/** The shopper's cart id: a signed-in user's is their active cart (CreateCart answers it, created when none); a guest's is created on first use. */
export async function ensureCartId(currencyCode: string): Promise<string> {
  await resumeSession();
  const client = api();
  if (client.tokens()) {
    const active = await client.cart.createCart({ currencyCode });
    if (!active.cart) throw new Error("web: CreateCart answered no cart");
    return active.cart.id;
  }
  const held = client.guestCart();
  if (held) return held.cartId;
  const created = await client.cart.createCart({ currencyCode });
  if (!created.cart) throw new Error("web: CreateCart answered no cart");
  return created.cart.id;
}

/** Forgets the guest cart (after an order is placed). */
export function forgetGuestCart(): void {
  api().forgetGuestCart();
}
