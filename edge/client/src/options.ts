// The options and plain types of @bazaar/client.
/** A guest's cart: its id and the token that proves it is theirs (sent as x-cart-token). */
export interface GuestCart {
  cartId: string;
  cartToken: string;
}

export interface Tokens {
  accessToken: string;
  /** Empty with `refreshCookie` (the edge holds it in an httpOnly cookie). */
  refreshToken: string;
  /** The signed-in user. */
  userId?: string;
}

/** A sign-in's first step: tokens, or the challenge to answer with a second factor. */
export type SignInStep = { tokens: Tokens; mfaChallenge?: undefined } | { mfaChallenge: string; tokens?: undefined };

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
  /**
   * Browsers on the edge's own origin: the edge keeps the refresh token in an httpOnly cookie and the
   * session holds only the access token, in memory (`tokens().refreshToken` is empty). `resume()`
   * signs back in from the cookie after a reload. Default false (the refresh token is in `tokens()`).
   */
  refreshCookie?: boolean;
  /** Read-only methods go as cacheable HTTP GET (ETag, Cache-Control). Default true. */
  useHttpGet?: boolean;
  /** A fetch of your own (tests, instrumentation). Default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

