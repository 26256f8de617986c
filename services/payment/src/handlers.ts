// PaymentService RPCs: authorise the caller (services and admins), validate (every violation at once,
// nothing changed), call the payment operations and shape their results as messages.
import { ADMIN_ROLE, checkEmail, checkId, checkPaymentMethod, readPage, requireServiceOrRole } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  PaymentOperationKind,
  PaymentOperationSchema,
  PaymentSchema,
  PaymentService,
  PaymentState,
  type Payment,
  type PaymentOperation,
} from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import { money, PAYMENTS_ORDER, type OperationKind, type OperationView, type PaymentStateName, type PaymentView } from "./payment-store.ts";
import type { Payments } from "./payments.ts";
import {
  checkCustomerId,
  checkMoney,
  checkReason,
  checkRefundId,
  PAGE_SIZE,
  violations,
} from "./validation.ts";

/** Payments are moved by services (the order saga) and by admins; customers never call this directly. */
const requireServiceOrAdmin = () => void requireServiceOrRole(ADMIN_ROLE, "payments are handled by services and admins");

const states: Record<PaymentStateName, PaymentState> = {
  pending: PaymentState.PENDING,
  authorized: PaymentState.AUTHORIZED,
  captured: PaymentState.CAPTURED,
  partially_refunded: PaymentState.PARTIALLY_REFUNDED,
  refunded: PaymentState.REFUNDED,
  voided: PaymentState.VOIDED,
  failed: PaymentState.FAILED,
};
const stateNames = new Map<PaymentState, PaymentStateName>(Object.entries(states).map(([name, state]) => [state, name as PaymentStateName]));

const kinds: Record<OperationKind, PaymentOperationKind> = {
  authorize: PaymentOperationKind.AUTHORIZE,
  capture: PaymentOperationKind.CAPTURE,
  void: PaymentOperationKind.VOID,
  refund: PaymentOperationKind.REFUND,
};

export const operationMessage = (op: OperationView): PaymentOperation =>
  create(PaymentOperationSchema, {
    id: op.id,
    kind: kinds[op.kind],
    amount: money(op.amount, op.currency),
    succeeded: op.succeeded,
    gatewayReference: op.gatewayReference,
    failureCode: op.failureCode,
    createTime: timestampFromDate(op.createdAt),
    refundId: op.refundId ?? "",
  });

export const paymentMessage = (p: PaymentView): Payment =>
  create(PaymentSchema, {
    id: p.id,
    orderId: p.orderId,
    state: states[p.state],
    amount: money(p.amount, p.currency),
    captured: money(p.captured, p.currency),
    refunded: money(p.refunded, p.currency),
    paymentMethod: p.paymentMethod,
    gateway: p.gateway,
    gatewayReference: p.gatewayReference,
    failureCode: p.failureCode,
    failureMessage: p.failureMessage,
    operations: p.operations.map(operationMessage),
    createTime: timestampFromDate(p.createdAt),
    updateTime: timestampFromDate(p.updatedAt),
  });

/** The order id of a request about one order's payment, in lower case; refused when it is no UUID. */
function checkOrder(orderId: string): string {
  const v = violations();
  const id = checkId(v, "order_id", orderId);
  v.throwIfAny();
  return id;
}

export function paymentHandlers(payments: Payments): ServiceImpl<typeof PaymentService> {
  return {
    // No handler takes the call's signal: once the gateway is asked, the answer is recorded (and its
    // event published) even when the caller has stopped waiting.
    async authorizePayment(request) {
      requireServiceOrAdmin();
      const v = violations();
      const orderId = checkId(v, "order_id", request.orderId);
      checkMoney(v, "amount", request.amount);
      checkPaymentMethod(v, "payment_method", request.paymentMethod);
      checkCustomerId(v, "customer_id", request.customerId);
      checkEmail(v, "email", request.email);
      v.throwIfAny();
      const payment = await payments.authorize({
        orderId,
        amount: request.amount!.amountMinor,
        currency: request.amount!.currencyCode,
        paymentMethod: request.paymentMethod,
        customerId: request.customerId,
        email: request.email,
      });
      return { payment: paymentMessage(payment) };
    },

    async capturePayment(request) {
      requireServiceOrAdmin();
      return { payment: paymentMessage(await payments.capture(checkOrder(request.orderId))) };
    },

    async voidPayment(request) {
      requireServiceOrAdmin();
      return { payment: paymentMessage(await payments.void(checkOrder(request.orderId))) };
    },

    async refundPayment(request) {
      requireServiceOrAdmin();
      const v = violations();
      const orderId = checkId(v, "order_id", request.orderId);
      checkRefundId(v, "refund_id", request.refundId);
      checkMoney(v, "amount", request.amount);
      checkReason(v, "reason", request.reason);
      v.throwIfAny();
      const result = await payments.refund({
        orderId,
        refundId: request.refundId,
        amount: request.amount!.amountMinor,
        currency: request.amount!.currencyCode,
        reason: request.reason,
      });
      return { payment: paymentMessage(result.payment), refund: operationMessage(result.refund) };
    },

    async getPayment(request) {
      requireServiceOrAdmin();
      return { payment: paymentMessage(await payments.get(checkOrder(request.orderId))) };
    },

    async listPayments(request) {
      requireServiceOrAdmin();
      const v = violations();
      const state = request.state === PaymentState.UNSPECIFIED ? undefined : stateNames.get(request.state);
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListPayments", state }, PAYMENTS_ORDER);
      v.check(request.state === PaymentState.UNSPECIFIED || state, "state", "is not a payment state");
      v.throwIfAny();
      const { rows, nextPageToken } = await payments.list(page, state);
      return { payments: rows.map(paymentMessage), nextPageToken };
    },
  };
}
