// An order's life as one validated state machine. Every status change in the service goes through
// `checkTransition`, so no code path can move an order where its life does not allow.
//
//   PENDING ──▶ CONFIRMED ──▶ FULFILLING ──▶ SHIPPED ──▶ DELIVERED
//      │            │  ╲           │
//      ▼            │   ╲──────────┴──▶ CANCELLED        (refunded and restocked)
//   REJECTED        ╰──── paid ───────▶ REFUNDED         (full refund, from any paid status)
import { FailedPreconditionError } from "@bazaar/platform";
import { OrderStatus } from "@bazaar/contracts/bazaar/order/v1/order_pb";

export type Status = "PENDING" | "CONFIRMED" | "FULFILLING" | "SHIPPED" | "DELIVERED" | "CANCELLED" | "REJECTED" | "REFUNDED";

export type PaymentStatus = "PENDING" | "AUTHORIZED" | "PAID" | "PARTIALLY_REFUNDED" | "REFUNDED" | "VOIDED" | "FAILED";

export type FailureReason = "OUT_OF_STOCK" | "PAYMENT_DECLINED" | "INSUFFICIENT_FUNDS" | "PAYMENT_FAILED" | "RESERVATION_EXPIRED" | PromotionRefusal;

/** A promotion's refusal to be redeemed (the saga's first step): nothing authorised, nothing held. */
export type PromotionRefusal =
  | "PROMOTION_LIMIT_REACHED"
  | "PROMOTION_CUSTOMER_LIMIT_REACHED"
  | "PROMOTION_BUDGET_EXHAUSTED"
  | "PROMOTION_CODE_USED"
  | "PROMOTION_NOT_FIRST_ORDER"
  | "PROMOTION_INACTIVE";

const transitions: Record<Status, readonly Status[]> = {
  PENDING: ["CONFIRMED", "REJECTED"],
  CONFIRMED: ["FULFILLING", "CANCELLED", "REFUNDED"],
  FULFILLING: ["SHIPPED", "CANCELLED", "REFUNDED"],
  SHIPPED: ["DELIVERED", "REFUNDED"],
  DELIVERED: ["REFUNDED"],
  CANCELLED: [],
  REJECTED: [],
  REFUNDED: [],
};

/** Statuses in which the money was taken (a refund is possible). */
export const PAID_STATUSES: readonly Status[] = ["CONFIRMED", "FULFILLING", "SHIPPED", "DELIVERED"];

/** The fulfilment moves staff make with UpdateOrderStatus. */
export const FULFILMENT_STATUSES: readonly Status[] = ["FULFILLING", "SHIPPED", "DELIVERED"];

export function canTransition(from: Status, to: Status): boolean {
  return transitions[from].includes(to);
}

export function isTerminal(status: Status): boolean {
  return transitions[status].length === 0;
}

/** Throws FAILED_PRECONDITION (reason INVALID_TRANSITION) unless `from → to` is a move of an order's life. */
export function checkTransition(from: Status, to: Status, orderId: string): void {
  if (!canTransition(from, to)) {
    throw new FailedPreconditionError(`order ${orderId} cannot go from ${from} to ${to}`, { reason: "INVALID_TRANSITION" });
  }
}

const wire: Record<Status, OrderStatus> = {
  PENDING: OrderStatus.PENDING,
  CONFIRMED: OrderStatus.CONFIRMED,
  FULFILLING: OrderStatus.FULFILLING,
  SHIPPED: OrderStatus.SHIPPED,
  DELIVERED: OrderStatus.DELIVERED,
  CANCELLED: OrderStatus.CANCELLED,
  REJECTED: OrderStatus.REJECTED,
  REFUNDED: OrderStatus.REFUNDED,
};

export const statusToWire = (status: Status): OrderStatus => wire[status];

export function statusFromWire(status: OrderStatus): Status | undefined {
  return (Object.keys(wire) as Status[]).find((s) => wire[s] === status);
}
