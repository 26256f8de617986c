// The session core of @bazaar/client: the transport with sign-in, transparent token refresh and the
// guest cart's token, needing only the identity and cart descriptors — so a browser bundle that uses
// a few services (the storefront) does not carry every public service's descriptors.
import { Code, ConnectError, createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import type { BazaarClientOptions, GuestCart, SignInStep, Tokens } from "./options.ts";

/** The header that asks the edge to keep the refresh token in its httpOnly cookie (edge/src/refresh-cookie.ts). */
const SESSION_MODE_HEADER = "x-bazaar-session";

export interface BazaarSession {
  /**
   * Signs in; then merges the guest cart, if one is held, into the user's cart and forgets it. Throws
   * the Connect error of Login (unauthenticated, resource_exhausted…), or when MFA is needed.
   */
  signIn(email: string, password: string): Promise<Tokens>;
  /**
   * Signs in, or answers the MFA challenge to pass to `completeMfaSignIn`. Merges the guest cart as
   * signIn does once signed in. Throws Login's Connect errors.
   */
  startSignIn(email: string, password: string): Promise<SignInStep>;
  /** The second step: a TOTP code or a recovery code. Throws CompleteMfaLogin's Connect errors. */
  completeMfaSignIn(mfaChallenge: string, answer: { code: string } | { recoveryCode: string }): Promise<Tokens>;
  /**
   * With `refreshCookie`: signs back in from the edge's cookie (after a reload); false when there is
   * no session to resume. Without it: whether tokens are held.
   */
  resume(): Promise<boolean>;
  /** Ends the session at identity and forgets the tokens. */
  signOut(): Promise<void>;
  tokens(): Tokens | undefined;
  /** The guest cart held (until sign-in merges it). */
  guestCart(): GuestCart | undefined;
  /** Lets go of the guest cart (e.g. once an order was placed from it). */
  forgetGuestCart(): void;
  /** The transport, for clients of other public services. */
  transport: Transport;
}

export function createBazaarSession(options: BazaarClientOptions): BazaarSession {

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
  const cookieMode = options.refreshCookie ?? false;
  const sessionMode: Interceptor = (next) => (request) => {
    request.header.set(SESSION_MODE_HEADER, "cookie");
    return next(request);
  };
  // Refresh goes without the auth interceptor, so it cannot recurse.
  const plain = createClient(IdentityService, createConnectTransport(cookieMode ? { ...base, interceptors: [sessionMode] } : base));
  const tokensOf = (pair: { accessToken: string; refreshToken: string; userId: string }): Tokens => ({ accessToken: pair.accessToken, refreshToken: pair.refreshToken, userId: pair.userId });
  let refreshing: Promise<boolean> | undefined;

  async function refresh(used: string | undefined): Promise<boolean> {
    // Someone refreshed already while this call was in flight: just retry with the new token.
    if (tokens && tokens.accessToken !== used) return true;
    const refreshToken = tokens?.refreshToken ?? "";
    if (!refreshToken && !cookieMode) return false;
    refreshing ??= plain
      .refreshToken({ refreshToken })
      .then((r) => {
        if (!r.tokens) return false;
        setTokens(tokensOf(r.tokens));
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

  // Signed in: the guest cart, if one is held, becomes part of the user's cart.
  async function signedIn(next: Tokens): Promise<Tokens> {
    setTokens(next);
    if (guestCart) {
      await cart.mergeCart({ guestCartId: guestCart.cartId });
      setGuestCart(undefined);
    }
    return next;
  }

  async function startSignIn(email: string, password: string): Promise<SignInStep> {
    const response = await plain.login({ email, password });
    if (!response.tokens) return { mfaChallenge: response.mfaChallenge };
    return { tokens: await signedIn(tokensOf(response.tokens)) };
  }

  return {
    transport,
    tokens: () => tokens,
    guestCart: () => guestCart,
    forgetGuestCart: () => setGuestCart(undefined),
    async signIn(email, password) {
      const step = await startSignIn(email, password);
      if (!step.tokens) throw new ConnectError("this account needs a second factor: call completeMfaSignIn", Code.FailedPrecondition);
      return step.tokens;
    },
    startSignIn,
    async completeMfaSignIn(mfaChallenge, answer) {
      const response = await plain.completeMfaLogin({ mfaChallenge, ...answer });
      if (!response.tokens) throw new ConnectError("CompleteMfaLogin answered no tokens", Code.Internal);
      return signedIn(tokensOf(response.tokens));
    },
    async resume() {
      if (!cookieMode) return tokens !== undefined;
      try {
        const response = await plain.refreshToken({});
        if (!response.tokens) return false;
        await signedIn(tokensOf(response.tokens));
        return true;
      } catch (error) {
        if (error instanceof ConnectError && (error.code === Code.Unauthenticated || error.code === Code.PermissionDenied)) return false;
        throw error;
      }
    },
    async signOut() {
      const refreshToken = tokens?.refreshToken ?? "";
      // Signed out only once identity (and, in cookie mode, the edge's cookie) has let go: a page that
      // says "signed out" earlier could still hold a session. Signed out locally whatever the answer.
      try {
        if (refreshToken || cookieMode) await plain.logout({ refreshToken });
      } finally {
        setTokens(undefined);
      }
    },
  };
}
