// What the checkout saga asks of other services, as outcomes the saga decides on. The real steps
// (steps.ts) call cart, inventory and payment; tests of the saga's decisions pass plain functions.
// A step throws only for what a later re-drive may cure (a dependency down, an unexpected error).
import type { FailureReason } from "./order-status.ts";
import type { OrderRecord } from "./orders.ts";
import type { RedeemOutcome } from "./promotion-step.ts";

export type ReservationState = "active" | "committed" | "released" | "expired" | "restocked";

export type ReserveOutcome = { kind: "reserved"; reservationId: string; state: ReservationState } | { kind: "out_of_stock" };

export type AuthorizeOutcome =
  | { kind: "authorized" }
  /** The gateway has not answered yet (a slow or webhook-reported outcome): an event will tell. */
  | { kind: "pending" }
  | { kind: "declined"; reason: FailureReason }
  /** The order's payment was voided first (a saga gave up): a late authorisation is refused. */
  | { kind: "voided" }
  /** The payment service, or the gateway behind it, cannot be reached: not a decline (`what` names which). */
  | { kind: "unavailable"; what?: string };

export type CaptureOutcome = "captured" | "refused" | "unavailable";

export type CommitOutcome = "committed" | "gone";

export type VoidOutcome = "voided" | "failed" | "captured";

export type ReleaseOutcome = "released" | "committed";

export type CartOutcome = "completed" | "refused";

export interface PaymentFigures {
  captured: bigint;
  refunded: bigint;
}

export interface SagaSteps {
  /** RedeemPromotions of the order's promotions (the first step); idempotent per order. */
  redeemPromotions(order: OrderRecord): Promise<RedeemOutcome>;
  /** ReleasePromotions: gives the order's redemptions back; idempotent. */
  releasePromotions(order: OrderRecord): Promise<void>;
  /** ReserveStock with reference = the order id: repeating it returns the same reservation. */
  reserveStock(order: OrderRecord, ttlSeconds: number): Promise<ReserveOutcome>;
  /** AuthorizePayment of the order's total; idempotent per order. */
  authorize(order: OrderRecord): Promise<AuthorizeOutcome>;
  capture(orderId: string): Promise<CaptureOutcome>;
  commit(reservationId: string): Promise<CommitOutcome>;
  /** VoidPayment: also records a void for an order without a payment, so a late authorisation is refused. */
  voidPayment(orderId: string): Promise<VoidOutcome>;
  /** What the order's payment holds; undefined when there is none. */
  payment(orderId: string): Promise<PaymentFigures | undefined>;
  /** RefundPayment, idempotent per (order, refundId). */
  refund(orderId: string, refundId: string, amount: bigint, currency: string, reason: string): Promise<void>;
  release(reservationId: string): Promise<ReleaseOutcome>;
  /** RestockReservation; restocking a restocked (or never committed) reservation is done already. */
  restock(reservationId: string): Promise<void>;
  completeCart(cartId: string, orderId: string): Promise<CartOutcome>;
}
