// CartService RPCs. Reads: one statement for the cart and its lines, then the catalog and inventory in
// parallel. Writes: check access and look up the SKUs first (no lock held over an RPC), then one
// transaction that locks the cart row, applies the change against the lines as they are under the
// lock, and moves updated_at (and so the expiry).
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CART_TOKEN_HEADER,
  checkCountryCode,
  checkSku,
  checkUuid,
  currentPrincipal,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  requireUser,
  ResourceExhaustedError,
  violations,
  type Database,
  type EntityManager,
  type Violations,
} from "@bazaar/platform";
import { CartLineStatus, CartService, MergeAdjustmentSchema, ShippingOptionSchema, type CartShipping, type MergeAdjustment } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { ProductStatus } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { cartNotFound, mayAccess, targetOf, type Caller, type CartTarget } from "./cart-access.ts";
import { cartTokenMatches, hashCartToken, newCartToken } from "./cart-token.ts";
import {
  checkOut,
  deleteLine,
  deleteLines,
  insertGuestCart,
  lockActiveCartOf,
  lockCart,
  readActiveCartOf,
  readCart,
  readLines,
  setLine,
  touchCart,
  type CartPatch,
  type CartRow,
  type LineRow,
  type StoredCart,
} from "./carts.ts";
import type { CartConfig } from "./config.ts";
import { priceCart, promotableLines, storedDestination, unpricedCart, type Destination, type PricedCart } from "./priced-cart.ts";
import type { PricedShippingOption, Pricing } from "./pricing.ts";
import { addCode, checkPromotionCode, MAX_CART_CODES, mergeCodes, removeCode, type CartPromotions, type EvaluationOptions, type PromotionEvaluator } from "./promotions.ts";
import type { ShippingQuotes } from "./shipping-quotes.ts";
import { completeLookup, type SkuFacts, type SkuLookup } from "./sku-lookup.ts";
import { checkQuantity, MAX_LINE_QUANTITY, MAX_LINES, MAX_POSTAL_CODE_LENGTH, MAX_REGION_LENGTH } from "./validation.ts";

export interface CartHandlerDeps {
  database: Database;
  config: CartConfig;
  pricing: Pricing;
  lookup: SkuLookup;
  /** Shipping prices, from the shipping service. */
  quotes: ShippingQuotes;
  /** Discounts, from the promotion service. */
  promotions: PromotionEvaluator;
}

type Facts = Map<string, SkuFacts>;

/** What a write does under the cart's lock; what it returns is applied to the cart row with the touch. */
type Change = (em: EntityManager, cart: CartRow, lines: LineRow[], facts: Facts) => Promise<CartPatch | void>;

const notActive = (cart: CartRow) =>
  new FailedPreconditionError(`cart ${cart.id} is ${cart.state.replace("_", " ")}, no longer active`, { reason: "CART_NOT_ACTIVE" });

const lineStatusNames: Partial<Record<CartLineStatus, string>> = {
  [CartLineStatus.UNAVAILABLE]: "is not for sale",
  [CartLineStatus.OUT_OF_STOCK]: "is out of stock",
  [CartLineStatus.INSUFFICIENT_STOCK]: "has fewer units available than the line holds",
  [CartLineStatus.NO_PRICE]: "has no price in the cart's currency",
};

/** That the catalog sells `sku` in `currency` now (AddCartItem, UpdateCartItem). */
function checkSellable(facts: Facts, sku: string, currency: string) {
  const variant = facts.get(sku)?.variant;
  if (!variant || variant.productStatus !== ProductStatus.ACTIVE) {
    throw new InvalidArgumentError({ field: "sku", description: `${sku} is not for sale (unknown, draft or archived)` }, { reason: "PRODUCT_UNAVAILABLE" });
  }
  if (!variant.prices.some((p) => p.currencyCode === currency)) {
    throw new InvalidArgumentError({ field: "sku", description: `${sku} has no price in ${currency}` }, { reason: "NO_PRICE_IN_CURRENCY" });
  }
}

function checkAvailable(facts: Facts, sku: string, quantity: number) {
  const available = facts.get(sku)?.available ?? 0n;
  if (available < BigInt(quantity)) {
    throw new FailedPreconditionError(`only ${available} of ${sku} available, ${quantity} asked for`, { reason: "INSUFFICIENT_STOCK" });
  }
}

function checkShipping(v: Violations, shipping: CartShipping | undefined): Destination | undefined {
  if (!v.check(shipping, "shipping", "is required")) return undefined;
  const countryCode = shipping!.countryCode.trim().toUpperCase();
  checkCountryCode(v, "shipping.country_code", countryCode);
  v.check([...shipping!.region].length <= MAX_REGION_LENGTH, "shipping.region", `must be at most ${MAX_REGION_LENGTH} characters`);
  v.check([...shipping!.postalCode].length <= MAX_POSTAL_CODE_LENGTH, "shipping.postal_code", `must be at most ${MAX_POSTAL_CODE_LENGTH} characters`);
  v.check(shipping!.shippingOptionId !== "", "shipping.shipping_option_id", "is required (one of ListShippingOptions' ids)");
  return { countryCode, region: shipping!.region.trim(), postalCode: shipping!.postalCode.trim(), shippingOptionId: shipping!.shippingOptionId };
}

function requireService(method: string) {
  const principal = currentPrincipal();
  if (principal?.kind !== "service") throw new PermissionDeniedError(`${method} is for services only`, { reason: "SERVICE_REQUIRED" });
  return principal;
}

const shippingOptionMessage = (option: PricedShippingOption, currency: string) =>
  create(ShippingOptionSchema, {
    id: option.id,
    displayName: option.displayName,
    price: create(MoneySchema, { currencyCode: currency, amountMinor: option.price }),
    minDays: option.minDays,
    maxDays: option.maxDays,
  });

export function cartHandlers(deps: CartHandlerDeps): ServiceImpl<typeof CartService> {
  const { database, config, pricing, lookup, quotes } = deps;
  const ttlOf = (cart: CartRow) => (cart.user_id === null ? config.CART_GUEST_TTL_SECONDS : config.CART_USER_TTL_SECONDS);
  const callerOf = (context: HandlerContext): Caller => ({ principal: currentPrincipal(), cartToken: context.requestHeader.get(CART_TOKEN_HEADER) ?? "" });

  /**
   * The promotion service's evaluation of `stored` with `codes` (default: those it holds). It is
   * told the chosen shipping option, not its price: free shipping waives whatever the quote comes
   * to. `required`: refuse rather than show the cart without discounts when promotion cannot be
   * reached.
   */
  async function promotionsOf(stored: StoredCart, facts: Facts, destination: Destination | undefined, options: EvaluationOptions & { codes?: string[] }): Promise<CartPromotions> {
    const lines = promotableLines(stored, facts);
    const codes = options.codes ?? stored.codes;
    const shipping = destination ? { shipping: { optionId: destination.shippingOptionId, price: 0n } } : {};
    return deps.promotions({ currency: stored.cart.currency, lines, ...shipping, codes }, options);
  }

  /**
   * Prices a stored cart, looking up only the SKUs `facts` lacks: promotions first (what they take off
   * the lines does not depend on shipping), then shipping quoted for the discounted subtotal at its
   * destination (or `checkout.destination`). A checkout charges `checkout.quoteId` when given, prices
   * for `checkout.customer`, and fails when shipping or promotion cannot be reached; reads show
   * shipping unknown or no discounts then.
   */
  async function present(
    stored: StoredCart,
    facts: Facts = new Map(),
    checkout?: { destination: Destination; quoteId: string; customer: { id: string; roles: readonly string[] } },
  ): Promise<PricedCart> {
    const all = await completeLookup(lookup, facts, stored.lines.map((l) => l.sku));
    const destination = checkout?.destination ?? storedDestination(stored);
    const promotions = await promotionsOf(stored, all, destination, { required: checkout !== undefined, ...(checkout ? { customer: checkout.customer } : {}) });
    const discount = promotions.discount.lines;
    const quoted = !destination
      ? undefined
      : checkout?.quoteId
        ? await quotes.honour(stored, all, destination, checkout.quoteId, discount)
        : await quotes.quoteFor(stored, all, destination, checkout !== undefined, discount);
    return priceCart(stored, all, pricing, ttlOf(stored.cart), destination, quoted, promotions);
  }

  function checkCurrency(v: Violations, field: string, code: string): string {
    if (code === "") return config.CART_DEFAULT_CURRENCY;
    v.check(config.CART_CURRENCIES.includes(code), field, `must be one of ${config.CART_CURRENCIES.join(", ")}`);
    return code;
  }

  function cartIdOf(v: Violations, cartId: string) {
    if (cartId !== "") checkUuid(v, "cart_id", cartId);
  }

  /** The addressed cart as stored, if the caller may see it (unlocked). */
  async function find(caller: Caller, target: CartTarget): Promise<StoredCart | undefined> {
    if (target.kind === "user") return readActiveCartOf(database.em(), target.userId);
    const stored = await readCart(database.em(), target.id);
    return stored && mayAccess(stored.cart, caller) ? stored : undefined;
  }

  /**
   * A write: access and state checked, SKUs looked up (the cart's and `skus`), `check` run against
   * them, then `change` under the cart's lock. `create`: a signed-in user's missing active cart is
   * made. Returns the cart after the change, priced.
   */
  async function mutate(
    context: HandlerContext,
    cartId: string,
    options: { create: boolean; skus?: string[]; check?: (facts: Facts, currency: string) => void | Promise<void> },
    change: Change,
  ): Promise<PricedCart> {
    const caller = callerOf(context);
    const target = targetOf(caller, cartId);
    const before = await find(caller, target);
    if (!before && !(options.create && target.kind === "user")) throw cartNotFound(target);
    if (before && before.cart.state !== "active") throw notActive(before.cart);
    const facts = await lookup([...(before?.lines.map((l) => l.sku) ?? []), ...(options.skus ?? [])]);
    await options.check?.(facts, before?.cart.currency ?? config.CART_DEFAULT_CURRENCY);
    const after = await database.transaction(async (em) => {
      const cart =
        target.kind === "id"
          ? await lockCart(em, target.id)
          : (await lockActiveCartOf(em, target.userId, options.create ? { currency: config.CART_DEFAULT_CURRENCY } : undefined))?.cart;
      if (!cart) throw cartNotFound(target);
      if (cart.state !== "active") throw notActive(cart);
      // The cart may have been (re)created since the first read: recheck in the currency it has.
      if (cart.currency !== before?.cart.currency) await options.check?.(facts, cart.currency);
      const patch = await change(em, cart, await readLines(em, cart.id), facts);
      return touchCart(em, cart.id, patch ?? {});
    });
    return present(after, facts);
  }

  /** Sets a line to `quantity` (≥ 1) under the lock: per-line limit, 100 lines, availability. */
  const setQuantity = (sku: string, quantity: (existing: number) => number): Change =>
    async (em, cart, lines, facts) => {
      const existing = lines.find((l) => l.sku === sku);
      const wanted = quantity(existing?.quantity ?? 0);
      if (wanted > MAX_LINE_QUANTITY) {
        throw new InvalidArgumentError({ field: "quantity", description: `the line would hold ${wanted}; at most ${MAX_LINE_QUANTITY} per line` });
      }
      if (!existing && lines.length >= MAX_LINES) {
        throw new ResourceExhaustedError(`a cart holds at most ${MAX_LINES} lines`, { reason: "CART_FULL" });
      }
      checkAvailable(facts, sku, wanted);
      await setLine(em, cart.id, sku, wanted);
    };

  return {
    async createCart(request) {
      const v = violations();
      const currency = checkCurrency(v, "currency_code", request.currencyCode);
      v.throwIfAny();
      const principal = currentPrincipal();
      if (principal?.kind === "user") {
        const stored = await database.transaction(async (em) => {
          const { cart, created } = (await lockActiveCartOf(em, principal.subject, { currency }))!;
          // Asking for another currency switches the cart (lines hold SKUs only; prices follow).
          if (!created && request.currencyCode !== "" && cart.currency !== currency) return touchCart(em, cart.id, { currency });
          return (await readCart(em, cart.id))!;
        });
        return { cart: (await present(stored)).cart, cartToken: "" };
      }
      const token = newCartToken();
      const stored = await insertGuestCart(database.em(), hashCartToken(token), currency);
      return { cart: (await present(stored)).cart, cartToken: token };
    },

    async getCart(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      v.throwIfAny();
      const caller = callerOf(context);
      const target = targetOf(caller, request.cartId);
      const stored = await find(caller, target);
      if (!stored) throw cartNotFound(target);
      return { cart: (await present(stored)).cart };
    },

    async addCartItem(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      checkSku(v, "sku", request.sku);
      checkQuantity(v, "quantity", request.quantity, 1);
      v.throwIfAny();
      const { sku, quantity } = request;
      const check = (facts: Facts, currency: string) => checkSellable(facts, sku, currency);
      const { cart } = await mutate(context, request.cartId, { create: true, skus: [sku], check }, setQuantity(sku, (existing) => existing + quantity));
      return { cart };
    },

    async updateCartItem(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      checkSku(v, "sku", request.sku);
      checkQuantity(v, "quantity", request.quantity, 0);
      v.throwIfAny();
      const { sku, quantity } = request;
      if (quantity === 0) {
        const { cart } = await mutate(context, request.cartId, { create: false }, (em, c) => deleteLine(em, c.id, sku));
        return { cart };
      }
      const check = (facts: Facts, currency: string) => checkSellable(facts, sku, currency);
      const { cart } = await mutate(context, request.cartId, { create: true, skus: [sku], check }, setQuantity(sku, () => quantity));
      return { cart };
    },

    async removeCartItem(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      checkSku(v, "sku", request.sku);
      v.throwIfAny();
      const { cart } = await mutate(context, request.cartId, { create: false }, (em, c) => deleteLine(em, c.id, request.sku));
      return { cart };
    },

    async clearCart(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      v.throwIfAny();
      const { cart } = await mutate(context, request.cartId, { create: false }, (em, c) => deleteLines(em, c.id));
      return { cart };
    },

    async setCartShipping(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      const destination = checkShipping(v, request.shipping);
      v.throwIfAny();
      const check = async (_facts: Facts, currency: string) => {
        if (!(await quotes.priceList(destination!, currency)).some((o) => o.id === destination!.shippingOptionId)) {
          throw new InvalidArgumentError({
            field: "shipping.shipping_option_id",
            description: `"${destination!.shippingOptionId}" is not offered to ${destination!.countryCode} in ${currency}`,
          });
        }
      };
      const { cart } = await mutate(context, request.cartId, { create: true, check }, async () => ({ shipping: destination! }));
      return { cart };
    },

    async listShippingOptions(request) {
      const v = violations();
      const country = request.countryCode.trim().toUpperCase();
      checkCountryCode(v, "country_code", country);
      const currency = checkCurrency(v, "currency_code", request.currencyCode);
      v.check([...request.region].length <= MAX_REGION_LENGTH, "region", `must be at most ${MAX_REGION_LENGTH} characters`);
      v.check([...request.postalCode].length <= MAX_POSTAL_CODE_LENGTH, "postal_code", `must be at most ${MAX_POSTAL_CODE_LENGTH} characters`);
      v.throwIfAny();
      const options = await quotes.priceList({ countryCode: country, region: request.region.trim(), postalCode: request.postalCode.trim() }, currency);
      return { options: options.map((o) => shippingOptionMessage(o, currency)) };
    },

    async mergeCart(request, context) {
      const user = requireUser();
      const v = violations();
      checkUuid(v, "guest_cart_id", request.guestCartId);
      v.throwIfAny();
      const caller = callerOf(context);
      const guest = await readCart(database.em(), request.guestCartId);
      // Only a guest cart, and only with its token: a user cart or a wrong token is "not found".
      if (!guest || guest.cart.user_id !== null || !cartTokenMatches(caller.cartToken, guest.cart.token_hash)) {
        throw cartNotFound({ kind: "id", id: request.guestCartId });
      }
      const mine = await readActiveCartOf(database.em(), user.subject);
      const facts = await lookup([...guest.lines.map((l) => l.sku), ...(mine?.lines.map((l) => l.sku) ?? [])]);

      const outcome = await database.transaction(async (em) => {
        const locked = (await lockCart(em, guest.cart.id))!;
        if (locked.state === "merged") {
          // Merged before (a retry, or a concurrent merge that won): the same user's cart, unchanged.
          const into = (await readCart(em, locked.merged_into!))!;
          if (into.cart.user_id !== user.subject) throw cartNotFound({ kind: "id", id: request.guestCartId });
          return { stored: (await readActiveCartOf(em, user.subject)) ?? into, adjustments: [] as MergeAdjustment[] };
        }
        if (locked.state !== "active") throw notActive(locked);
        const guestLines = await readLines(em, locked.id);
        const target = (await lockActiveCartOf(em, user.subject, { currency: locked.currency }))!.cart;
        const lines = new Map((await readLines(em, target.id)).map((l) => [l.sku, l.quantity]));
        const wasEmpty = lines.size === 0;
        const adjustments: MergeAdjustment[] = [];
        const adjust = (sku: string, requested: number, merged: number, reason: string) =>
          adjustments.push(create(MergeAdjustmentSchema, { sku, requested, merged, reason }));
        for (const line of guestLines) {
          const existing = lines.get(line.sku);
          const requested = (existing ?? 0) + line.quantity;
          if (existing === undefined && lines.size >= MAX_LINES) {
            adjust(line.sku, requested, 0, "cart full");
            continue;
          }
          const available = Number(facts.get(line.sku)?.available ?? 0n);
          const capped = Math.min(requested, MAX_LINE_QUANTITY, available);
          // Never shrink what the user already had; the read flags it if stock fell below it.
          const merged = Math.max(existing ?? 0, capped);
          if (merged < requested) adjust(line.sku, requested, merged, requested > MAX_LINE_QUANTITY && available >= MAX_LINE_QUANTITY ? "per-line limit" : "capped by availability");
          if (merged === 0 || merged === existing) continue;
          await setLine(em, target.id, line.sku, merged, line.added_at);
          lines.set(line.sku, merged);
        }
        await mergeCodes(em, locked.id, target.id);
        await touchCart(em, locked.id, { state: { name: "merged", into: target.id } });
        // An empty user cart takes the guest's currency and destination, as the guest left them.
        const patch: CartPatch = {};
        if (wasEmpty && target.currency !== locked.currency) patch.currency = locked.currency;
        if (target.country_code === null && locked.country_code !== null) {
          patch.shipping = { countryCode: locked.country_code, region: locked.region, postalCode: locked.postal_code, shippingOptionId: locked.shipping_option_id! };
        }
        return { stored: await touchCart(em, target.id, patch), adjustments };
      });
      return { cart: (await present(outcome.stored, facts)).cart, adjustments: outcome.adjustments };
    },

    async prepareCheckout(request) {
      requireService("PrepareCheckout");
      const v = violations();
      checkUuid(v, "cart_id", request.cartId);
      v.check(request.userId !== "" || request.cartToken !== "", "cart_token", "give user_id for a signed-in buyer or cart_token for a guest");
      const destination = checkShipping(v, request.shipping);
      const quoteId = request.shipping?.quoteId ?? "";
      if (quoteId !== "") checkUuid(v, "shipping.quote_id", quoteId);
      v.throwIfAny();
      const stored = await readCart(database.em(), request.cartId);
      const owned =
        stored !== undefined &&
        ((request.userId !== "" && stored.cart.user_id === request.userId) ||
          (request.cartToken !== "" && stored.cart.user_id === null && cartTokenMatches(request.cartToken, stored.cart.token_hash)));
      if (!owned) throw cartNotFound({ kind: "id", id: request.cartId });
      const { cart: row } = stored!;
      if (row.state !== "active") throw notActive(row);
      if (stored!.lines.length === 0) throw new FailedPreconditionError(`cart ${row.id} is empty`, { reason: "CART_EMPTY" });
      // Priced for the buyer the order service names (the call is the service's own).
      const customer = { id: row.user_id ?? "", roles: request.customerRoles };
      const { cart, option } = await present(stored!, new Map(), { destination: destination!, quoteId, customer });
      const flagged = cart.lines.find((l) => l.status !== CartLineStatus.OK);
      if (flagged) {
        throw new FailedPreconditionError(`line ${flagged.sku} ${lineStatusNames[flagged.status] ?? "cannot be bought"}`, { reason: "LINE_UNAVAILABLE" });
      }
      if (!option) {
        throw new InvalidArgumentError({
          field: "shipping.shipping_option_id",
          description: `"${destination!.shippingOptionId}" is not offered to ${destination!.countryCode} in ${row.currency} for this cart`,
        });
      }
      // A code the buyer entered is never dropped silently at checkout (e.g. its limit was reached
      // since the cart was shown): the checkout is refused with the code's reason.
      const lapsed = cart.promotionCodes.find((c) => !c.applied);
      if (lapsed) {
        throw new FailedPreconditionError(`the promotion code ${lapsed.code} does not apply any more: ${lapsed.message}`, { reason: lapsed.reason, metadata: { code: lapsed.code } });
      }
      return { cart, shippingOption: shippingOptionMessage(option!, row.currency) };
    },

    async applyPromotionCode(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      checkPromotionCode(v, "code", request.code);
      v.throwIfAny();
      const code = request.code.toUpperCase();
      const caller = callerOf(context);
      const target = targetOf(caller, request.cartId);
      const before = await find(caller, target);
      if (!before) throw cartNotFound(target);
      if (before.cart.state !== "active") throw notActive(before.cart);
      const held = before.codes;
      if (held.includes(code)) return { cart: (await present(before)).cart };
      if (held.length >= MAX_CART_CODES) throw new ResourceExhaustedError(`a cart holds at most ${MAX_CART_CODES} promotion codes`, { reason: "TOO_MANY_CODES" });
      // Evaluated with the code before it is kept: one that does not apply is refused with its reason.
      const facts = await lookup(before.lines.map((l) => l.sku));
      const outcome = await promotionsOf(before, facts, storedDestination(before), { required: true, codes: [...held, code] });
      const mine = outcome.codes.find((c) => c.code === code);
      if (!mine?.applied) {
        throw new FailedPreconditionError(mine?.message || `the code ${code} does not apply to this cart`, { reason: mine?.reason || "PROMOTION_NOT_APPLICABLE", metadata: { code } });
      }
      const { cart } = await mutate(context, request.cartId, { create: false }, async (em, c) => {
        if (!(await addCode(em, c.id, code))) throw new ResourceExhaustedError(`a cart holds at most ${MAX_CART_CODES} promotion codes`, { reason: "TOO_MANY_CODES" });
      });
      return { cart };
    },

    async removePromotionCode(request, context) {
      const v = violations();
      cartIdOf(v, request.cartId);
      checkPromotionCode(v, "code", request.code);
      v.throwIfAny();
      const { cart } = await mutate(context, request.cartId, { create: false }, (em, c) => removeCode(em, c.id, request.code.toUpperCase()));
      return { cart };
    },

    async completeCart(request) {
      requireService("CompleteCart");
      const v = violations();
      checkUuid(v, "cart_id", request.cartId);
      checkUuid(v, "order_id", request.orderId);
      v.throwIfAny();
      // The common case in one statement; anything else is explained from the cart as it is. The
      // answer is the cart as stored, unpriced (see the contract): the order holds the prices.
      const em = database.em();
      const checkedOut = await checkOut(em, request.cartId, request.orderId);
      if (checkedOut) return { cart: unpricedCart({ cart: checkedOut, lines: await readLines(em, checkedOut.id) }, ttlOf(checkedOut)) };
      const stored = await readCart(em, request.cartId);
      if (!stored) throw new NotFoundError(`cart ${request.cartId} not found`, { reason: "CART_NOT_FOUND" });
      const { cart } = stored;
      if (cart.state === "merged") throw new FailedPreconditionError(`cart ${cart.id} was merged into another cart`, { reason: "CART_MERGED" });
      if (cart.state !== "checked_out" || cart.order_id !== request.orderId.toLowerCase()) {
        // (Active or expired here would mean it was checked out and reopened, which no write does.)
        throw new FailedPreconditionError(`cart ${cart.id} was checked out by another order`, { reason: "CART_CHECKED_OUT" });
      }
      return { cart: unpricedCart(stored, ttlOf(cart)) };
    },
  };
}
