// Request headers Bazaar's own contracts rely on beside the messages, named once for services, the
// edge and clients.

/** A guest's cart token (from CreateCart), proving the cart is theirs; sent to the cart and order services. */
export const CART_TOKEN_HEADER = "x-cart-token";
