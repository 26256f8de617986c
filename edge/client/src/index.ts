// @bazaar/client: typed Connect clients for Bazaar's public API through the edge, over connect-web's
// Connect transport (browsers and Node ≥ 18 fetch), with sign-in and transparent token refresh.
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { InventoryService } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { OrderService } from "@bazaar/contracts/bazaar/order/v1/order_pb";

export { IdentityService, CatalogService, InventoryService, CartService, OrderService };

/** A guest's cart: its id and the token that proves it is theirs (sent as x-cart-token). */
export interface GuestCart {
  cartId: string;
  cartToken: string;
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface BazaarClientOptions {
  /** The edge, e.g. "https://shop.example.com" or "http://127.0.0.1:8080". */
  baseUrl: string;
  /** Tokens to start with (e.g. restored from storage). Default: signed out. */
  tokens?: Tokens;
  /** Called whenever the tokens change (sign-in, refresh, sign-out), e.g. to persist them. */
  onTokens?: (tokens: Tokens | undefined) => void;
  /** A guest cart to start with (e.g. restored from storage). */
  guestCart?: GuestCart;
  /** Called whenever the guest cart changes (created, merged at sign-in), e.g. to persist it. */
  onGuestCart?: (cart: GuestCart | undefined) => void;
  /** Read-only methods go as cacheable HTTP GET (ETag, Cache-Control). Default true. */
  useHttpGet?: boolean;
  /** A fetch of your own (tests, instrumentation). Default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

export interface BazaarClient {
  identity: Client<typeof IdentityService>;
  catalog: Client<typeof CatalogService>;
  inventory: Client<typeof InventoryService>;
  /** Carts: a guest's calls carry the token of the cart CreateCart gave them. */
  cart: Client<typeof CartService>;
  orders: Client<typeof OrderService>;
  /**
   * Signs in; then merges the guest cart, if one is held, into the user's cart and forgets it. Throws
   * the Connect error of Login (unauthenticated, resource_exhausted…), or when MFA is needed.
   */
  signIn(email: string, password: string): Promise<Tokens>;
  /** Ends the session at identity and forgets the tokens. */
  signOut(): Promise<void>;
  tokens(): Tokens | undefined;
  /** The guest cart held (until sign-in merges it). */
  guestCart(): GuestCart | undefined;
  /** The transport, for clients of other public services. */
  transport: Transport;
}

export function createBazaarClient(options: BazaarClientOptions): BazaarClient {
  let tokens = options.tokens;
  const setTokens = (next: Tokens | undefined) => {
    tokens = next;
    options.onTokens?.(next);
  };
  let guestCart = options.guestCart;
  const setGuestCart = (next: GuestCart | undefined) => {
    guestCart = next;
    options.onGuestCart?.(next);
  };
  const base = { baseUrl: options.baseUrl, useHttpGet: options.useHttpGet ?? true, fetch: options.fetch };
  // Refresh goes without the auth interceptor, so it cannot recurse.
  const plain = createClient(IdentityService, createConnectTransport(base));
  let refreshing: Promise<boolean> | undefined;

  async function refresh(used: string | undefined): Promise<boolean> {
    // Someone refreshed already while this call was in flight: just retry with the new token.
    if (tokens && tokens.accessToken !== used) return true;
    const refreshToken = tokens?.refreshToken;
    if (!refreshToken) return false;
    refreshing ??= plain
      .refreshToken({ refreshToken })
      .then((r) => {
        if (!r.tokens) return false;
        setTokens({ accessToken: r.tokens.accessToken, refreshToken: r.tokens.refreshToken });
        return true;
      })
      .catch(() => {
        setTokens(undefined);
        return false;
      })
      .finally(() => (refreshing = undefined));
    return refreshing;
  }

  const auth: Interceptor = (next) => async (request) => {
    const used = tokens?.accessToken;
    if (used) request.header.set("authorization", `Bearer ${used}`);
    try {
      return await next(request);
    } catch (error) {
      if (!used || !(error instanceof ConnectError) || error.code !== Code.Unauthenticated || request.stream) throw error;
      if (!(await refresh(used))) throw error;
      request.header.set("authorization", `Bearer ${tokens!.accessToken}`);
      return await next(request);
    }
  };
  // A guest proves their cart with its token; CreateCart's answer is where a new one comes from.
  const cartToken: Interceptor = (next) => async (request) => {
    if (guestCart && !request.header.has("x-cart-token")) request.header.set("x-cart-token", guestCart.cartToken);
    const response = await next(request);
    if (!response.stream && request.method.name === "CreateCart") {
      const created = response.message as { cart?: { id: string }; cartToken?: string };
      if (created.cartToken && created.cart) setGuestCart({ cartId: created.cart.id, cartToken: created.cartToken });
    }
    return response;
  };
  const transport = createConnectTransport({ ...base, interceptors: [auth, cartToken] });
  const cart = createClient(CartService, transport);
  const identity = createClient(IdentityService, transport);

  return {
    identity,
    catalog: createClient(CatalogService, transport),
    inventory: createClient(InventoryService, transport),
    cart,
    orders: createClient(OrderService, transport),
    transport,
    tokens: () => tokens,
    guestCart: () => guestCart,
    async signIn(email, password) {
      const response = await plain.login({ email, password });
      if (!response.tokens) throw new ConnectError("this account needs a second factor: call identity.completeMfaLogin", Code.FailedPrecondition);
      const signedIn = { accessToken: response.tokens.accessToken, refreshToken: response.tokens.refreshToken };
      setTokens(signedIn);
      if (guestCart) {
        await cart.mergeCart({ guestCartId: guestCart.cartId });
        setGuestCart(undefined);
      }
      return signedIn;
    },
    async signOut() {
      const refreshToken = tokens?.refreshToken;
      setTokens(undefined);
      if (refreshToken) await plain.logout({ refreshToken });
    },
  };
}
