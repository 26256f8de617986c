// Orders as the contract shapes them.
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { OrderFailureReason, OrderPaymentStatus, OrderSchema, type Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import type { FailureReason, PaymentStatus } from "./order-status.ts";
import { statusToWire } from "./order-status.ts";
import type { OrderRecord } from "./orders.ts";

const paymentStatuses: Record<PaymentStatus, OrderPaymentStatus> = {
  PENDING: OrderPaymentStatus.PENDING,
  AUTHORIZED: OrderPaymentStatus.AUTHORIZED,
  PAID: OrderPaymentStatus.PAID,
  PARTIALLY_REFUNDED: OrderPaymentStatus.PARTIALLY_REFUNDED,
  REFUNDED: OrderPaymentStatus.REFUNDED,
  VOIDED: OrderPaymentStatus.VOIDED,
  FAILED: OrderPaymentStatus.FAILED,
};

const failureReasons: Record<FailureReason, OrderFailureReason> = {
  OUT_OF_STOCK: OrderFailureReason.OUT_OF_STOCK,
  PAYMENT_DECLINED: OrderFailureReason.PAYMENT_DECLINED,
  INSUFFICIENT_FUNDS: OrderFailureReason.INSUFFICIENT_FUNDS,
  PAYMENT_FAILED: OrderFailureReason.PAYMENT_FAILED,
  RESERVATION_EXPIRED: OrderFailureReason.RESERVATION_EXPIRED,
  PROMOTION_LIMIT_REACHED: OrderFailureReason.PROMOTION_LIMIT_REACHED,
  PROMOTION_CUSTOMER_LIMIT_REACHED: OrderFailureReason.PROMOTION_CUSTOMER_LIMIT_REACHED,
  PROMOTION_BUDGET_EXHAUSTED: OrderFailureReason.PROMOTION_BUDGET_EXHAUSTED,
  PROMOTION_CODE_USED: OrderFailureReason.PROMOTION_CODE_USED,
  PROMOTION_NOT_FIRST_ORDER: OrderFailureReason.PROMOTION_NOT_FIRST_ORDER,
  PROMOTION_INACTIVE: OrderFailureReason.PROMOTION_INACTIVE,
};

/** The etag: the row's version, which every update increments. */
export const etagOf = (order: OrderRecord) => `"${order.version}"`;

export function orderMessage(order: OrderRecord): Order {
  const money = (amountMinor: bigint) => ({ amountMinor, currencyCode: order.currency });
  // Each line's share of the promotions, from their allocations.
  const lineDiscount = new Map<string, bigint>();
  for (const p of order.promotions) for (const a of p.allocations) lineDiscount.set(a.sku, (lineDiscount.get(a.sku) ?? 0n) + a.amount);
  return create(OrderSchema, {
    id: order.id,
    userId: order.userId,
    email: order.email,
    status: statusToWire(order.status),
    paymentStatus: paymentStatuses[order.paymentStatus],
    failureReason: order.failureReason ? failureReasons[order.failureReason] : OrderFailureReason.UNSPECIFIED,
    lines: order.lines.map((line) => ({
      sku: line.sku,
      productId: line.productId,
      productName: line.productName,
      options: line.options,
      quantity: line.quantity,
      unitPrice: money(line.unitPrice),
      lineTotal: money(line.lineTotal),
      discount: money(lineDiscount.get(line.sku) ?? 0n),
    })),
    totals: {
      subtotal: money(order.subtotal),
      discount: money(order.discount),
      shipping: money(order.shipping),
      tax: money(order.tax),
      total: money(order.total),
      taxRateBps: order.taxRateBps,
    },
    captured: money(order.captured),
    refunded: money(order.refunded),
    shippingAddress: order.shippingAddress,
    shippingOptionId: order.shippingOptionId,
    paymentMethod: order.paymentMethod,
    cartId: order.cartId,
    history: order.history.map((change) => ({
      status: statusToWire(change.status),
      changeTime: timestampFromDate(change.at),
      actor: change.actor,
      note: change.note,
    })),
    createTime: timestampFromDate(order.createdAt),
    updateTime: timestampFromDate(order.updatedAt),
    etag: etagOf(order),
  });
}
