// PlaceOrder: validate, resolve the idempotency key, refuse a cart another order holds, price the
// cart (PrepareCheckout), then one statement creating the key and the PENDING order snapshot — which
// claims the cart (the database allows one live order per cart) — then the saga. Nothing is stored
// before that statement, so a request refused earlier leaves its key free for a corrected retry.
import {
  CART_TOKEN_HEADER,
  checkCurrencyCode,
  checkEmail,
  checkPaymentMethod,
  checkPostalAddress,
  checkUuid,
  ConflictError,
  currentPrincipal,
  dependencyUnavailable,
  failureOf,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  remainingMs,
  UnavailableError,
  type Database,
  type Logger,
  type ServiceRuntime,
} from "@bazaar/platform";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { HandlerContext } from "@connectrpc/connect";
import { uuidv7 } from "uuidv7";
import { CartService, type Cart, type PrepareCheckoutResponse } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { BadRequestSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { IdentityService } from "@bazaar/contracts/bazaar/identity/v1/identity_service_pb";
import { PlaceOrderResponseSchema, type PlaceOrderRequest, type PlaceOrderResponse } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { checkSameRequest, findKey, keyScope, requestHash, sha256 } from "./idempotency.ts";
import { orderMessage } from "./order-message.ts";
import {
  claimLease,
  createOrder,
  findClaim,
  historyOf,
  isCartClaimed,
  loadOrder,
  releaseLease,
  type CartClaim,
  type LeaseHolder,
  type NewOrder,
  type OrderRecord,
} from "./orders.ts";
import type { Saga } from "./saga.ts";
import { promotionsOf } from "./promotion-step.ts";
import { checkIdempotencyKey, violations } from "./validation.ts";

export interface PlaceOrderDeps {
  runtime: ServiceRuntime;
  database: Database;
  saga: Saga;
  logger: Logger;
  leaseMs: number;
  /** Recorded on the leases this instance takes (see lease-holder.ts). */
  holder?: LeaseHolder;
  /** How long a request waits for a payment outcome that arrives later (a slow gateway, a webhook). */
  pendingWaitMs?: number;
}

/** The error a REJECTED order answers with, the first time and on every replay of its key. */
export function rejection(order: OrderRecord): FailedPreconditionError {
  const reason = order.failureReason ?? "PAYMENT_FAILED";
  return new FailedPreconditionError(`order ${order.id} was rejected: ${reason}`, { reason });
}

function inProgress(orderId: string): ConflictError {
  return new ConflictError(`order ${orderId} is still being placed; retry with the same idempotency key`, { reason: "IN_PROGRESS", metadata: { order_id: orderId } });
}

/** The answer to a checkout of a cart that another live order holds (another key, another tab, a second click). */
function cartClaimed(cartId: string, claim: CartClaim): FailedPreconditionError {
  const metadata = { order_id: claim.orderId, cart_id: cartId };
  if (claim.status === "PENDING") {
    return new FailedPreconditionError(`cart ${cartId} is already being checked out by order ${claim.orderId}`, { reason: "CART_CHECKOUT_IN_PROGRESS", metadata });
  }
  return new FailedPreconditionError(`cart ${cartId} was already checked out by order ${claim.orderId}`, { reason: "CART_CHECKED_OUT", metadata });
}

/** Upstream field paths of PrepareCheckout's CartShipping as PlaceOrder's request names them. */
function requestField(field: string): string {
  const leaf = field.split(".").at(-1) ?? field;
  if (leaf === "quote_id") return "shipping_quote_id";
  return leaf === "shipping_option_id" ? "shipping_option_id" : leaf === "cart_id" ? "cart_id" : `shipping_address.${leaf}`;
}

export function createPlaceOrder(deps: PlaceOrderDeps) {
  const { database, saga, runtime, logger } = deps;
  const pendingWaitMs = deps.pendingWaitMs ?? 10_000;
  const cartForService = runtime.serviceClientFor(CartService);
  const cartForUser = runtime.clientFor(CartService);
  const identity = runtime.clientFor(IdentityService);

  async function answer(order: OrderRecord): Promise<PlaceOrderResponse> {
    if (order.status === "PENDING") throw inProgress(order.id);
    if (order.status === "REJECTED") throw rejection(order);
    // A record this request wrote all along carries its history; one read back does not.
    const history = order.history.length > 0 ? order.history : (await historyOf(database.em(), [order.id])).get(order.id)!;
    return create(PlaceOrderResponseSchema, { order: orderMessage({ ...order, history }) });
  }

  /** Drives an order this request holds the lease of, and answers with where it ended. */
  async function driveAndAnswer(orderId: string, created?: OrderRecord): Promise<PlaceOrderResponse> {
    let order: OrderRecord;
    try {
      order = await saga.drive(orderId, created);
    } catch (error) {
      // The saga is persisted: the recovery driver continues it at once; the client retries its key.
      await database.transaction((em) => releaseLease(em, orderId)).catch(() => undefined);
      logger.warn({ err: error, order_id: orderId }, "checkout interrupted; left to the recovery driver");
      // Name the dependency that failed when the saga knows it (e.g. the payment gateway).
      const why = error instanceof UnavailableError ? `: ${error.message}` : "";
      throw new UnavailableError(`order ${orderId} could not be finished now${why}; it continues in the background — retry with the same idempotency key`, {
        reason: (error instanceof UnavailableError && error.reason) || "CHECKOUT_INTERRUPTED",
        metadata: { order_id: orderId },
        cause: error,
      });
    }
    if (order.status === "PENDING") {
      // The payment's outcome comes later (an event drives the saga on): let any driver take it.
      await database.transaction((em) => releaseLease(em, orderId));
      const deadline = Date.now() + pendingWaitMs;
      while (order.status === "PENDING" && Date.now() < deadline) {
        await sleep(100);
        order = (await loadOrder(database.em(), orderId, { history: false }))!;
      }
    }
    return answer(order);
  }

  /** A key seen before: its stored result, or the saga driven on when its driver is gone. */
  async function resume(orderId: string): Promise<PlaceOrderResponse> {
    // Another driver (the first request, a retry of it, the recovery driver) holding the order usually
    // finishes within moments: wait for its outcome, within this call's deadline, rather than answer
    // ABORTED to a retry that arrived while it ran.
    const left = remainingMs();
    const deadline = Date.now() + Math.min(pendingWaitMs, left === undefined ? pendingWaitMs : left - 500);
    for (;;) {
      const order = (await loadOrder(database.em(), orderId, { history: false }))!;
      if (order.status !== "PENDING") return answer(order);
      if (await database.transaction((em) => claimLease(em, orderId, deps.leaseMs, deps.holder))) return driveAndAnswer(orderId);
      if (Date.now() >= deadline) throw inProgress(orderId);
      await sleep(100);
    }
  }

  async function prepare(cartId: string, userId: string, cartToken: string, request: PlaceOrderRequest): Promise<PrepareCheckoutResponse> {
    const address = request.shippingAddress!;
    try {
      return await cartForService.prepareCheckout({
        cartId,
        userId,
        cartToken,
        shipping: {
          countryCode: address.countryCode,
          region: address.region,
          postalCode: address.postalCode,
          shippingOptionId: request.shippingOptionId,
          // The quote shown to the buyer: the cart charges its price or refuses it (QUOTE_*).
          quoteId: request.shippingQuoteId,
        },
        customerRoles: userId ? [...(currentPrincipal()?.roles ?? [])] : [],
      });
    } catch (error) {
      const { code, reason, error: e } = failureOf(error);
      if (code === Code.NotFound) throw new NotFoundError(`cart ${cartId} not found`, { cause: e });
      if (code === Code.FailedPrecondition) throw new FailedPreconditionError(e.rawMessage, { reason: reason ?? "CART_NOT_READY", cause: e });
      if (code === Code.InvalidArgument) {
        const fields = e.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
        throw new InvalidArgumentError(
          fields.length > 0 ? fields.map((f) => ({ field: requestField(f.field), description: f.description })) : [{ field: "shipping_option_id", description: e.rawMessage }],
          { cause: e },
        );
      }
      if (code === Code.Unavailable || code === Code.DeadlineExceeded) throw dependencyUnavailable("cart", e);
      throw error;
    }
  }

  async function activeCartId(): Promise<string> {
    try {
      const { cart } = await cartForUser.getCart({ cartId: "" });
      return cart!.id;
    } catch (error) {
      const { code, error: e } = failureOf(error);
      // Never had one, or it was just checked out (a second click): nothing to check out.
      if (code === Code.NotFound) throw new FailedPreconditionError("you have no active cart to check out", { reason: "NO_ACTIVE_CART", cause: e });
      if (code === Code.Unavailable || code === Code.DeadlineExceeded) throw dependencyUnavailable("cart", e);
      throw error;
    }
  }

  /**
   * Refuses a cart that a live order holds already. Only its buyer learns of that order; anyone else
   * is told what the cart service would say: no such cart.
   */
  async function refuseIfClaimed(cartId: string, userId: string, cartToken: string): Promise<void> {
    const claim = await findClaim(database.em(), cartId);
    if (!claim) return;
    const buyers = userId ? claim.userId === userId : claim.userId === "" && claim.cartTokenHash === sha256(cartToken);
    if (!buyers) throw new NotFoundError(`cart ${cartId} not found`, { reason: "CART_NOT_FOUND" });
    throw cartClaimed(cartId, claim);
  }

  async function accountEmail(userId: string): Promise<string> {
    try {
      const { user } = await identity.getUser({ userId });
      if (user?.email) return user.email;
    } catch (error) {
      const { code, error: e } = failureOf(error);
      if (code === Code.Unavailable || code === Code.DeadlineExceeded) throw dependencyUnavailable("identity", e);
      if (code !== Code.NotFound) throw error;
    }
    throw new InvalidArgumentError({ field: "email", description: "is required: the account has no email" });
  }

  function snapshot(id: string, cart: Cart, userId: string, email: string, cartToken: string, request: PlaceOrderRequest, address: NewOrder["shippingAddress"]): NewOrder {
    const totals = cart.totals!;
    const amount = (m: { amountMinor: bigint } | undefined) => m?.amountMinor ?? 0n;
    return {
      id,
      userId,
      email,
      cartId: cart.id,
      cartTokenHash: userId ? undefined : sha256(cartToken),
      currency: cart.currencyCode,
      subtotal: amount(totals.subtotal),
      discount: amount(totals.discount),
      shipping: amount(totals.shipping),
      tax: amount(totals.tax),
      total: amount(totals.total),
      taxRateBps: totals.taxRateBps,
      shippingAddress: address,
      shippingOptionId: request.shippingOptionId,
      paymentMethod: request.paymentMethod,
      lines: cart.lines.map((line) => ({
        sku: line.sku,
        productId: line.productId,
        productName: line.productName,
        options: { ...line.options },
        quantity: line.quantity,
        unitPrice: amount(line.unitPrice),
        lineTotal: amount(line.lineTotal),
      })),
      promotions: promotionsOf(cart),
    };
  }

  async function placeOrder(request: PlaceOrderRequest, context: HandlerContext): Promise<PlaceOrderResponse> {
    const principal = currentPrincipal();
    const userId = principal?.kind === "user" ? principal.subject : "";
    const cartToken = userId ? "" : (context.requestHeader.get(CART_TOKEN_HEADER) ?? "");

    const v = violations();
    checkIdempotencyKey(v, request.idempotencyKey);
    const address = checkPostalAddress(v, "shipping_address", request.shippingAddress);
    v.check(request.shippingOptionId !== "", "shipping_option_id", "is required");
    checkPaymentMethod(v, "payment_method", request.paymentMethod);
    const email = request.email.trim().toLowerCase();
    checkEmail(v, "email", email);
    if (!userId) {
      v.check(email !== "", "email", "is required for a guest checkout");
      v.check(request.cartId !== "", "cart_id", "is required for a guest checkout");
    }
    if (request.cartId !== "") checkUuid(v, "cart_id", request.cartId);
    if (request.shippingQuoteId !== "") checkUuid(v, "shipping_quote_id", request.shippingQuoteId);
    if (request.expectedTotal) {
      checkCurrencyCode(v, "expected_total.currency_code", request.expectedTotal.currencyCode);
      v.check(request.expectedTotal.amountMinor >= 0n, "expected_total.amount_minor", "must not be negative");
    }
    v.throwIfAny();
    if (!userId && cartToken === "") throw new NotFoundError(`cart ${request.cartId} not found`);

    const scope = keyScope(userId || undefined, cartToken);
    const hash = requestHash(request);
    const stored = await findKey(database.em(), scope, request.idempotencyKey);
    if (stored) {
      checkSameRequest(stored, hash);
      return resume(stored.orderId);
    }

    let created: OrderRecord;
    try {
      created = await startCheckout(request, userId, cartToken, email, address!, { scope, key: request.idempotencyKey, requestHash: hash });
    } catch (error) {
      // A duplicate of this request may have created its order meanwhile (the key and the order
      // appear together), which is why the cart is now claimed, checked out or gone: answer as for
      // a repeat — the order, or ABORTED while it runs — never as if this checkout had failed.
      const again = await findKey(database.em(), scope, request.idempotencyKey).catch(() => undefined);
      if (!again) throw error;
      checkSameRequest(again, hash);
      return resume(again.orderId);
    }
    return driveAndAnswer(created.id, created);
  }

  /** Everything between the key lookup and the new PENDING order (which claims the cart). */
  async function startCheckout(
    request: PlaceOrderRequest,
    userId: string,
    cartToken: string,
    givenEmail: string,
    address: NewOrder["shippingAddress"],
    key: { scope: string; key: string; requestHash: string },
  ): Promise<OrderRecord> {
    const cartId = request.cartId || (await activeCartId());
    // Before pricing: a click after a finished checkout gets this clear answer, not cart's "checked out".
    await refuseIfClaimed(cartId, userId, cartToken);
    const { cart } = await prepare(cartId, userId, cartToken, request).catch(async (error: unknown) => {
      // Refused because another checkout of the cart got further meanwhile (it is checked out now)?
      await refuseIfClaimed(cartId, userId, cartToken);
      throw error;
    });
    const total = cart!.totals?.total;
    if (request.expectedTotal && (request.expectedTotal.amountMinor !== total?.amountMinor || request.expectedTotal.currencyCode !== total?.currencyCode)) {
      throw new FailedPreconditionError(
        `the cart's total is ${total?.amountMinor ?? 0n} ${total?.currencyCode ?? ""}, not the expected ${request.expectedTotal.amountMinor} ${request.expectedTotal.currencyCode}`,
        { reason: "TOTAL_MISMATCH" },
      );
    }
    if (cart!.lines.length === 0) throw new FailedPreconditionError(`cart ${cartId} is empty`, { reason: "CART_EMPTY" });
    const email = givenEmail || (await accountEmail(userId));

    const order = snapshot(uuidv7(), cart!, userId, email, cartToken, request, address);
    let created: OrderRecord | undefined;
    try {
      created = await createOrder(database.em(), order, key, deps.leaseMs, deps.holder);
    } catch (error) {
      if (!isCartClaimed(error)) throw error;
      // Another checkout of this cart won the race: answer as if it had been there before.
      await refuseIfClaimed(cartId, userId, cartToken);
      throw new ConflictError(`cart ${cartId} changed while it was being checked out; try again`, { reason: "CONCURRENT_CHECKOUT", cause: error });
    }
    // A concurrent request with this key won the insert: the caller answers as for a repeat.
    if (!created) throw new ConflictError(`a request with idempotency key ${request.idempotencyKey} is under way`, { reason: "IN_PROGRESS" });
    return created;
  }

  return placeOrder;
}
