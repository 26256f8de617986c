// The saga's steps against the real services, always with this service's own token
// (serviceClientFor): a customer may not reserve stock or move money directly, the checkout may.
// Each maps the callee's documented answers (see their .proto comments) to an outcome; anything else
// is thrown for a later re-drive.
import { failureOf, type ServiceRuntime } from "@bazaar/platform";
import { Code } from "@connectrpc/connect";
import { CartService } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { InventoryService, ReservationState } from "@bazaar/contracts/bazaar/inventory/v1/inventory_service_pb";
import { PaymentService, PaymentState } from "@bazaar/contracts/bazaar/payment/v1/payment_pb";
import type { FailureReason } from "./order-status.ts";
import { createPromotionSteps } from "./promotion-step.ts";
import type { AuthorizeOutcome, ReservationState as State, SagaSteps } from "./saga-steps.ts";

/** A saga step never waits longer than this for one answer (calls outside any RPC have no deadline). */
const STEP_TIMEOUT_MS = 15_000;
const call = { timeoutMs: STEP_TIMEOUT_MS };

const reservationStates: Partial<Record<ReservationState, State>> = {
  [ReservationState.ACTIVE]: "active",
  [ReservationState.COMMITTED]: "committed",
  [ReservationState.RELEASED]: "released",
  [ReservationState.EXPIRED]: "expired",
  [ReservationState.RESTOCKED]: "restocked",
};

const declineReasons: Record<string, FailureReason> = {
  PAYMENT_DECLINED: "PAYMENT_DECLINED",
  INSUFFICIENT_FUNDS: "INSUFFICIENT_FUNDS",
};

export function createSteps(runtime: ServiceRuntime): SagaSteps {
  const inventory = runtime.serviceClientFor(InventoryService);
  const payment = runtime.serviceClientFor(PaymentService);
  const cart = runtime.serviceClientFor(CartService);

  return {
    ...createPromotionSteps(runtime),

    async reserveStock(order, ttlSeconds) {
      try {
        const { reservation } = await inventory.reserveStock(
          {
            reference: order.id,
            lines: order.lines.map((line) => ({ sku: line.sku, quantity: BigInt(line.quantity) })),
            ttl: { seconds: BigInt(ttlSeconds), nanos: 0 },
          },
          call,
        );
        const state = reservationStates[reservation!.state];
        if (!state) throw new Error(`ReserveStock answered an unknown reservation state ${reservation!.state}`);
        return { kind: "reserved", reservationId: reservation!.id, state };
      } catch (error) {
        const { code, reason } = failureOf(error);
        if (code === Code.FailedPrecondition && reason === "OUT_OF_STOCK") return { kind: "out_of_stock" };
        // A SKU the inventory has never known cannot be held either.
        if (code === Code.InvalidArgument) return { kind: "out_of_stock" };
        throw error;
      }
    },

    async authorize(order): Promise<AuthorizeOutcome> {
      try {
        const { payment: p } = await payment.authorizePayment(
          {
            orderId: order.id,
            amount: { amountMinor: order.total, currencyCode: order.currency },
            paymentMethod: order.paymentMethod,
            customerId: order.userId,
            email: order.email,
          },
          call,
        );
        switch (p!.state) {
          case PaymentState.AUTHORIZED:
          case PaymentState.CAPTURED:
            return { kind: "authorized" };
          case PaymentState.PENDING:
            return { kind: "pending" };
          case PaymentState.FAILED:
            return { kind: "declined", reason: declineReasons[p!.failureCode] ?? "PAYMENT_FAILED" };
          default:
            return { kind: "voided" };
        }
      } catch (error) {
        const { code, reason } = failureOf(error);
        if (code === Code.Unavailable || code === Code.DeadlineExceeded) return { kind: "unavailable", what: reason === "GATEWAY_UNAVAILABLE" ? "the payment gateway" : "the payment service" };
        if (code === Code.FailedPrecondition && reason && declineReasons[reason]) return { kind: "declined", reason: declineReasons[reason] };
        if (code === Code.FailedPrecondition && reason === "PAYMENT_VOIDED") return { kind: "voided" };
        // The gateway refuses this payment for good (e.g. a malformed method): a failed payment.
        if (code === Code.InvalidArgument || code === Code.AlreadyExists || code === Code.FailedPrecondition) return { kind: "declined", reason: "PAYMENT_FAILED" };
        throw error;
      }
    },

    async capture(orderId) {
      try {
        await payment.capturePayment({ orderId }, call);
        return "captured";
      } catch (error) {
        const { code } = failureOf(error);
        if (code === Code.Unavailable || code === Code.DeadlineExceeded) return "unavailable";
        if (code === Code.FailedPrecondition || code === Code.NotFound) return "refused";
        throw error;
      }
    },

    async commit(reservationId) {
      try {
        await inventory.commitReservation({ reservationId }, call);
        return "committed";
      } catch (error) {
        const { code } = failureOf(error);
        if (code === Code.FailedPrecondition || code === Code.NotFound) return "gone";
        throw error;
      }
    },

    async voidPayment(orderId) {
      try {
        const { payment: p } = await payment.voidPayment({ orderId }, call);
        return p!.state === PaymentState.FAILED ? "failed" : "voided";
      } catch (error) {
        if (failureOf(error).code === Code.FailedPrecondition) return "captured";
        throw error;
      }
    },

    async payment(orderId) {
      try {
        const { payment: p } = await payment.getPayment({ orderId }, call);
        return { captured: p!.captured?.amountMinor ?? 0n, refunded: p!.refunded?.amountMinor ?? 0n };
      } catch (error) {
        if (failureOf(error).code === Code.NotFound) return undefined;
        throw error;
      }
    },

    async refund(orderId, refundId, amount, currency, reason) {
      await payment.refundPayment({ orderId, refundId, amount: { amountMinor: amount, currencyCode: currency }, reason: reason.slice(0, 500) }, call);
    },

    async release(reservationId) {
      try {
        await inventory.releaseReservation({ reservationId }, call);
        return "released";
      } catch (error) {
        const { code } = failureOf(error);
        if (code === Code.FailedPrecondition) return "committed";
        if (code === Code.NotFound) return "released";
        throw error;
      }
    },

    async restock(reservationId) {
      try {
        await inventory.restockReservation({ reservationId }, call);
      } catch (error) {
        // Not committed (released or expired): its units are back already.
        if (failureOf(error).code === Code.FailedPrecondition) return;
        throw error;
      }
    },

    async completeCart(cartId, orderId) {
      try {
        await cart.completeCart({ cartId, orderId }, call);
        return "completed";
      } catch (error) {
        const { code } = failureOf(error);
        if (code === Code.FailedPrecondition || code === Code.NotFound) return "refused";
        throw error;
      }
    },
  };
}
