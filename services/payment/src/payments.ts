// The payment operations: each decides under the payment's row lock, then calls the gateway with no
// transaction open, then settles under the row lock again with its event. Crash-safe by construction:
// the payment is recorded (pending) before the gateway hears of it, every gateway call carries the
// order's key for that operation (a repeat gets the gateway's first answer), and a settle applies only
// to the state it was decided from.
//
// One operation at a time per order: in this process through an in-memory queue, across instances
// through a lease on the payment row (busy_until) that others wait out; a crashed holder's lease lapses.
import { setTimeout as sleep } from "node:timers/promises";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  type Database,
  type EntityManager,
  type Logger,
  type Page,
  type PageCursor,
} from "@bazaar/platform";
import { gatewayKeys, GatewayRejectedError, GatewayUnavailableError, type AuthorizeResult, type PaymentGateway } from "./gateway.ts";
import { createKeyedLock } from "./keyed-lock.ts";
import {
  addRefund,
  findRefund,
  findView,
  holdAuthorized,
  insertPending,
  insertPendingHeld,
  insertVoided,
  listPayments,
  lockByOrder,
  markAuthorized,
  markCaptured,
  markFailed,
  markStillPending,
  markVoided,
  recordFailure,
  releaseLease,
  takeLease,
  viewOf,
  NO_CURRENCY,
  type OperationView,
  type PaymentRow,
  type PaymentStateName,
  type PaymentView,
} from "./payment-store.ts";

export interface PaymentsOptions {
  database: Database;
  gateway: PaymentGateway;
  logger: Logger;
  /** How long one gateway call may hold a payment before another instance may take over (crash). Default 120 000 ms. */
  leaseMs?: number;
  /** How long a call waits for another instance's operation on the same payment. Default 15 000 ms. */
  busyWaitMs?: number;
}

export interface AuthorizeRequest {
  orderId: string;
  amount: bigint;
  currency: string;
  paymentMethod: string;
  customerId: string;
  email: string;
}

export interface RefundRequest {
  orderId: string;
  refundId: string;
  amount: bigint;
  currency: string;
  reason: string;
}

/** A decision taken under the row lock: answer now, or call the gateway for `payment` (now held by this call). */
type Decision<T> = { answer: T } | { call: PaymentRow };

export interface Payments {
  authorize(request: AuthorizeRequest): Promise<PaymentView>;
  capture(orderId: string): Promise<PaymentView>;
  void(orderId: string): Promise<PaymentView>;
  refund(request: RefundRequest): Promise<{ payment: PaymentView; refund: OperationView }>;
  get(orderId: string): Promise<PaymentView>;
  list(page: PageCursor, state: PaymentStateName | undefined): Promise<Page<PaymentView>>;
}

export function createPayments(options: PaymentsOptions): Payments {
  const { database, gateway, logger } = options;
  const leaseMs = options.leaseMs ?? 120_000;
  const busyWaitMs = options.busyWaitMs ?? 15_000;
  const oneAtATime = createKeyedLock();

  /**
   * Runs `decide` under the order's row lock until it answers or claims the payment for a gateway
   * call; while another instance holds the payment, waits (up to busyWaitMs, then unavailable).
   * `common`: the usual case as one statement that claims the payment (or finds it is not that case),
   * tried first so that the usual call needs no transaction.
   */
  async function decideLocked<T>(
    orderId: string,
    decide: (em: EntityManager) => Promise<Decision<T> | { busy: true }>,
    common?: (em: EntityManager) => Promise<PaymentRow | undefined>,
  ): Promise<Decision<T>> {
    const claimed = common ? await common(database.em()) : undefined;
    if (claimed) return { call: claimed };
    const deadline = Date.now() + busyWaitMs;
    for (;;) {
      const decision = await database.transaction(async (em) => {
        const outcome = await decide(em);
        if ("call" in outcome) {
          if (outcome.call.busy) return { busy: true } as const;
          await takeLease(em, outcome.call.id, leaseMs);
        }
        return outcome;
      });
      if (!("busy" in decision)) return decision;
      if (Date.now() > deadline) {
        throw new UnavailableError(`another operation on the payment of order ${orderId} is under way; try again`, { reason: "PAYMENT_BUSY" });
      }
      await sleep(100);
    }
  }

  /** Lets go of a payment whose gateway call failed without an answer. */
  async function release(payment: PaymentRow): Promise<void> {
    await database.transaction((em) => releaseLease(em, payment.id)).catch((error: unknown) => {
      logger.warn({ err: error, paymentId: payment.id }, "could not release the payment's lease; it lapses by itself");
    });
  }

  /** The gateway's answer, or the domain error its failure means (the payment released first). */
  async function callGateway<T>(payment: PaymentRow, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof GatewayRejectedError) throw error; // recorded by the caller
      await release(payment);
      if (error instanceof GatewayUnavailableError) {
        throw new UnavailableError(`the ${gateway.name} payment gateway cannot be reached; try again`, { reason: "GATEWAY_UNAVAILABLE", cause: error });
      }
      throw error;
    }
  }

  async function settle(orderId: string, apply: (em: EntityManager, payment: PaymentRow) => Promise<void>): Promise<PaymentView> {
    return database.transaction(async (em) => {
      const payment = (await lockByOrder(em, orderId))!;
      await apply(em, payment);
      return (await findView(em, orderId))!;
    });
  }

  const declined = (code: string, message: string) => new FailedPreconditionError(message || "the payment was declined", { reason: code || "PAYMENT_DECLINED" });

  async function authorize(request: AuthorizeRequest): Promise<PaymentView> {
    const key = gatewayKeys.authorize(request.orderId);
    const decision = await decideLocked<PaymentView>(request.orderId, async (em) => {
      await insertPending(em, { ...request, gateway: gateway.name });
      const payment = (await lockByOrder(em, request.orderId))!;
      if (payment.state === "voided") {
        throw new FailedPreconditionError(`the payment of order ${request.orderId} was voided`, { reason: "PAYMENT_VOIDED" });
      }
      if (payment.amount !== request.amount || payment.currency !== request.currency || payment.paymentMethod !== request.paymentMethod) {
        throw new AlreadyExistsError(`order ${request.orderId} has a payment with a different amount or payment method (${payment.id})`, {
          reason: "PAYMENT_EXISTS",
        });
      }
      // A repeated request gets the first one's answer: the decline again, or the payment as it is.
      if (payment.state === "failed") throw declined(payment.failureCode, payment.failureMessage);
      if (payment.state !== "pending") return { answer: await viewOf(em, payment) };
      return { call: payment };
    }, (em) => insertPendingHeld(em, { ...request, gateway: gateway.name }, leaseMs));
    if ("answer" in decision) return decision.answer;
    const payment = decision.call;
    // The recorded values, not the request's: a repeat must send the gateway the very same call.
    const result: AuthorizeResult = await callGateway(payment, () =>
      gateway.authorize({
        idempotencyKey: key,
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
        paymentMethod: payment.paymentMethod,
        customerId: payment.customerId,
        email: payment.email,
      }),
    );
    const view = await settle(request.orderId, async (em, current) => {
      // A webhook may have settled it meanwhile: then that stands.
      if (current.state !== "pending") return releaseLease(em, current.id);
      if (result.outcome === "authorized") return markAuthorized(em, current, result.reference, key);
      if (result.outcome === "declined") return markFailed(em, current, { code: result.code, message: result.message, reference: result.reference }, key);
      return markStillPending(em, current, result.reference);
    });
    if (view.state === "failed") throw declined(view.failureCode, view.failureMessage);
    return view;
  }

  async function capture(orderId: string): Promise<PaymentView> {
    const key = gatewayKeys.capture(orderId);
    const decision = await decideLocked<PaymentView>(orderId, async (em) => {
      const payment = await lockByOrder(em, orderId);
      if (!payment) throw new NotFoundError(`order ${orderId} has no payment`, { reason: "PAYMENT_NOT_FOUND" });
      if (payment.state === "captured" || payment.state === "partially_refunded" || payment.state === "refunded") return { answer: await viewOf(em, payment) };
      if (payment.state !== "authorized") {
        throw new FailedPreconditionError(`the payment of order ${orderId} is ${payment.state}, not authorized`, { reason: "PAYMENT_NOT_AUTHORIZED" });
      }
      return { call: payment };
    }, (em) => holdAuthorized(em, orderId, leaseMs));
    if ("answer" in decision) return decision.answer;
    const payment = decision.call;
    try {
      await callGateway(payment, () => gateway.capture({ reference: payment.gatewayReference, amount: payment.amount, idempotencyKey: key }));
    } catch (error) {
      if (!(error instanceof GatewayRejectedError)) throw error;
      await database.transaction((em) => recordFailure(em, payment, { kind: "capture", key, amount: payment.amount, failureCode: error.code }));
      throw new FailedPreconditionError(`the gateway refused the capture: ${error.message}`, { reason: "CAPTURE_FAILED", cause: error });
    }
    return settle(orderId, async (em, current) => {
      if (current.state !== "authorized") return releaseLease(em, current.id);
      await markCaptured(em, current, key);
    });
  }

  async function voidPayment(orderId: string): Promise<PaymentView> {
    const key = gatewayKeys.void(orderId);
    const decision = await decideLocked<PaymentView>(orderId, async (em) => {
      let payment = await lockByOrder(em, orderId);
      if (!payment) {
        await insertVoided(em, orderId, gateway.name, key);
        payment = (await lockByOrder(em, orderId))!;
      }
      if (payment.state === "voided" || payment.state === "failed") return { answer: await viewOf(em, payment) };
      if (payment.state !== "pending" && payment.state !== "authorized") {
        throw new FailedPreconditionError(`the payment of order ${orderId} was captured; refund it instead`, { reason: "PAYMENT_CAPTURED" });
      }
      return { call: payment };
    });
    if ("answer" in decision) return decision.answer;
    const payment = decision.call;
    try {
      await callGateway(payment, () =>
        gateway.void({
          reference: payment.gatewayReference || undefined,
          authorizationKey: gatewayKeys.authorize(orderId),
          orderId,
          idempotencyKey: key,
        }),
      );
    } catch (error) {
      if (!(error instanceof GatewayRejectedError)) throw error;
      await database.transaction((em) => recordFailure(em, payment, { kind: "void", key, amount: payment.amount, failureCode: error.code }));
      throw new FailedPreconditionError(`the gateway refused the void: ${error.message}`, { reason: "VOID_FAILED", cause: error });
    }
    return settle(orderId, async (em, current) => {
      if (current.state !== "pending" && current.state !== "authorized") return releaseLease(em, current.id);
      await markVoided(em, current, key);
    });
  }

  async function refund(request: RefundRequest): Promise<{ payment: PaymentView; refund: OperationView }> {
    const key = gatewayKeys.refund(request.orderId, request.refundId);
    const decision = await decideLocked<{ payment: PaymentView; refund: OperationView }>(request.orderId, async (em) => {
      const payment = await lockByOrder(em, request.orderId);
      if (!payment) throw new NotFoundError(`order ${request.orderId} has no payment`, { reason: "PAYMENT_NOT_FOUND" });
      // A refund the gateway refused before may be tried again; one it made is answered from the record.
      const existing = await findRefund(em, payment.id, request.refundId);
      if (existing?.succeeded) {
        if (existing.amount !== request.amount || existing.currency !== request.currency) {
          throw new AlreadyExistsError(`refund ${request.refundId} exists with a different amount`, { reason: "REFUND_ID_IN_USE" });
        }
        return { answer: { payment: await viewOf(em, payment), refund: existing } };
      }
      if (payment.currency !== NO_CURRENCY && request.currency !== payment.currency) {
        throw new InvalidArgumentError({ field: "amount.currency_code", description: `must be the payment's currency, ${payment.currency}` });
      }
      const refundable = payment.captured - payment.refunded;
      if (request.amount > refundable) {
        throw new FailedPreconditionError(`only ${refundable} minor units of the payment of order ${request.orderId} remain refundable`, {
          reason: "REFUND_EXCEEDS_CAPTURED",
        });
      }
      return { call: payment };
    });
    if ("answer" in decision) return decision.answer;
    const payment = decision.call;
    let reference: string;
    try {
      ({ reference } = await callGateway(payment, () => gateway.refund({ reference: payment.gatewayReference, amount: request.amount, idempotencyKey: key })));
    } catch (error) {
      if (!(error instanceof GatewayRejectedError)) throw error;
      await database.transaction((em) =>
        recordFailure(em, payment, { kind: "refund", key, amount: request.amount, failureCode: error.code, refundId: request.refundId, reason: request.reason }),
      );
      throw new FailedPreconditionError(`the gateway refused the refund: ${error.message}`, { reason: "REFUND_FAILED", cause: error });
    }
    return database.transaction(async (em) => {
      const current = (await lockByOrder(em, request.orderId))!;
      const operation = await addRefund(em, current, { refundId: request.refundId, amount: request.amount, reason: request.reason, reference, key });
      return { payment: (await findView(em, request.orderId))!, refund: operation };
    });
  }

  return {
    authorize: (request) => oneAtATime(request.orderId, () => authorize(request)),
    capture: (orderId) => oneAtATime(orderId, () => capture(orderId)),
    void: (orderId) => oneAtATime(orderId, () => voidPayment(orderId)),
    refund: (request) => oneAtATime(request.orderId, () => refund(request)),
    async get(orderId) {
      const view = await findView(database.em(), orderId);
      if (!view) throw new NotFoundError(`order ${orderId} has no payment`, { reason: "PAYMENT_NOT_FOUND" });
      return view;
    },
    list: (page, state) => listPayments(database.em(), page, state),
  };
}
