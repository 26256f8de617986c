// The checkout's promotion step: the promotions of the priced cart become the order's (with their
// discount on items and shipping together), the saga's first step redeems them (before any stock is
// held or money moved, so a refusal costs nothing), and a rejection or cancellation releases them.
// RedeemPromotions and ReleasePromotions are idempotent per order: a re-driven step counts once.
import { failureOf, type ServiceRuntime } from "@bazaar/platform";
import { Code } from "@connectrpc/connect";
import type { Cart } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import type { PromotionRefusal } from "./order-status.ts";
import type { OrderPromotion, OrderRecord } from "./orders.ts";

export type RedeemOutcome = { kind: "redeemed" } | { kind: "refused"; reason: PromotionRefusal };

const refusals: readonly PromotionRefusal[] = [
  "PROMOTION_LIMIT_REACHED",
  "PROMOTION_CUSTOMER_LIMIT_REACHED",
  "PROMOTION_BUDGET_EXHAUSTED",
  "PROMOTION_CODE_USED",
  "PROMOTION_NOT_FIRST_ORDER",
  "PROMOTION_INACTIVE",
];

export const isPromotionRefusal = (reason: string): reason is PromotionRefusal => (refusals as readonly string[]).includes(reason);

/** The promotions of a cart priced for checkout, as the order keeps them. */
export function promotionsOf(cart: Cart): OrderPromotion[] {
  return (cart.totals?.promotions ?? []).map((p) => ({
    promotionId: p.promotionId,
    code: p.code,
    amount: (p.amount?.amountMinor ?? 0n) + (p.shippingDiscount?.amountMinor ?? 0n),
    allocations: p.allocations.map((a) => ({ sku: a.sku, amount: a.amountMinor })),
  }));
}

/** A saga step never waits longer than this for one answer. */
const call = { timeoutMs: 15_000 };

export function createPromotionSteps(runtime: ServiceRuntime) {
  const promotion = runtime.serviceClientFor(PromotionService);
  return {
    async redeemPromotions(order: OrderRecord): Promise<RedeemOutcome> {
      if (order.promotions.length === 0) return { kind: "redeemed" };
      try {
        await promotion.redeemPromotions(
          {
            orderId: order.id,
            customerId: order.userId,
            email: order.email,
            redemptions: order.promotions.map((p) => ({ promotionId: p.promotionId, code: p.code, amount: { amountMinor: p.amount, currencyCode: order.currency } })),
          },
          call,
        );
        return { kind: "redeemed" };
      } catch (error) {
        const { code, reason } = failureOf(error);
        if (code === Code.FailedPrecondition && reason && isPromotionRefusal(reason)) return { kind: "refused", reason };
        throw error; // a later re-drive may cure it (promotion down)
      }
    },

    async releasePromotions(order: OrderRecord): Promise<void> {
      if (order.promotions.length === 0) return;
      await promotion.releasePromotions({ orderId: order.id }, call);
    },
  };
}
