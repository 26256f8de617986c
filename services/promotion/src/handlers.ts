// PromotionService RPCs: authorise (staff: admin; evaluation and redemption: services and admins),
// validate (every violation at once, nothing changed), call the store, the evaluation or the
// redemptions, and shape their results as messages.
import { ADMIN_ROLE, checkCurrencyCode, checkId, checkSku, checkUpdateMask, checkUuid, readPage, requireRole, requireServiceOrRole } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AppliedPromotionSchema,
  CodeRejection,
  LineAllocationSchema,
  PromotionCodeSchema,
  PromotionService,
  PromotionState,
  RedemptionSchema,
  RejectedCodeSchema,
} from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import type { CartEvaluator } from "./cart-evaluation.ts";
import type { Gate } from "./gate.ts";
import type { PromotionMetrics } from "./metrics.ts";
import { CODES_ORDER, PROMOTIONS_ORDER, REDEMPTIONS_ORDER, type PromotionStore } from "./promotion-store.ts";
import { redemptionView, type RedemptionView, type Redemptions } from "./redemptions.ts";
import { money } from "./rule-codec.ts";
import type { PromotionStateName, Rejection } from "./rules.ts";
import {
  checkCode,
  checkPrefix,
  checkPromotion,
  CODES_PAGE_SIZE,
  looksLikeCode,
  MAX_BATCH_CODES,
  MAX_CART_CODES,
  normalizeCode,
  PAGE_SIZE,
  REDEMPTIONS_PAGE_SIZE,
  violations,
} from "./validation.ts";

export interface PromotionHandlerDeps {
  evaluateCart: CartEvaluator;
  store: PromotionStore;
  redemptions: Redemptions;
  /** Bounds the concurrent database work of EvaluateCart, RedeemPromotions and ReleasePromotions. */
  gate: Gate;
  metrics: PromotionMetrics;
}

const requireStaff = () => void requireRole(ADMIN_ROLE);
const requireServiceOrAdmin = () => void requireServiceOrRole(ADMIN_ROLE, "promotions are evaluated and redeemed by services and admins");

const EDITABLE = ["name", "description", "conditions", "action", "stacking", "priority", "usage_limit", "per_customer_limit", "budget", "start_time", "end_time"];
const MAX_LINES = 100;

const rejections: Record<Rejection, CodeRejection> = {
  UNKNOWN: CodeRejection.UNKNOWN,
  EXPIRED: CodeRejection.EXPIRED,
  NOT_STARTED: CodeRejection.NOT_STARTED,
  MINIMUM_NOT_REACHED: CodeRejection.MINIMUM_NOT_REACHED,
  LIMIT_REACHED: CodeRejection.LIMIT_REACHED,
  NOT_FOR_CUSTOMER: CodeRejection.NOT_FOR_CUSTOMER,
  NOT_APPLICABLE: CodeRejection.NOT_APPLICABLE,
  NOT_COMBINABLE: CodeRejection.NOT_COMBINABLE,
  PAUSED: CodeRejection.PAUSED,
};

const stateFilter: Partial<Record<PromotionState, PromotionStateName>> = {
  [PromotionState.ACTIVE]: "active",
  [PromotionState.PAUSED]: "paused",
  [PromotionState.ARCHIVED]: "archived",
};

const redemptionMessage = (r: RedemptionView) =>
  create(RedemptionSchema, {
    id: r.id,
    promotionId: r.promotionId,
    orderId: r.orderId,
    customerId: r.customerId,
    code: r.code,
    amount: money(r.amount, r.currency),
    released: r.releasedAt !== null,
    createTime: timestampFromDate(r.createdAt),
  });

export function promotionHandlers(deps: PromotionHandlerDeps): ServiceImpl<typeof PromotionService> {
  const { evaluateCart, store, redemptions, gate, metrics } = deps;
  return {
    async createPromotion(request) {
      requireStaff();
      const v = violations();
      if (v.check(request.promotion, "promotion", "is required")) checkPromotion(v, request.promotion!);
      v.throwIfAny();
      return { promotion: await store.create(request.promotion!) };
    },

    async getPromotion(request) {
      requireStaff();
      const v = violations();
      const id = checkId(v, "promotion_id", request.promotionId);
      v.throwIfAny();
      return { promotion: await store.get(id) };
    },

    async updatePromotion(request) {
      requireStaff();
      const v = violations();
      const promotion = request.promotion;
      let paths: string[] = [];
      let id = "";
      if (v.check(promotion, "promotion", "is required")) {
        id = checkId(v, "promotion.id", promotion!.id);
        paths = checkUpdateMask(v, request.updateMask?.paths ?? [], EDITABLE);
        checkPromotion(v, promotion!, paths);
      }
      v.check(request.etag !== "", "etag", "is required (the promotion's etag as read)");
      v.throwIfAny();
      return { promotion: await store.update({ ...promotion!, id }, paths, request.etag) };
    },

    async pausePromotion(request) {
      requireStaff();
      const v = violations();
      const id = checkId(v, "promotion_id", request.promotionId);
      v.throwIfAny();
      return { promotion: await store.pause(id, request.paused) };
    },

    async archivePromotion(request) {
      requireStaff();
      const v = violations();
      const id = checkId(v, "promotion_id", request.promotionId);
      v.throwIfAny();
      return { promotion: await store.archive(id) };
    },

    async listPromotions(request) {
      requireStaff();
      const v = violations();
      const state = request.state === PromotionState.UNSPECIFIED ? undefined : stateFilter[request.state];
      v.check(request.state === PromotionState.UNSPECIFIED || state, "state", "is not a promotion state");
      const page = readPage(v, request, PAGE_SIZE, { rpc: "ListPromotions", state }, PROMOTIONS_ORDER);
      v.throwIfAny();
      return store.list(page, state);
    },

    async generatePromotionCodes(request) {
      requireStaff();
      const v = violations();
      const promotionId = checkId(v, "promotion_id", request.promotionId);
      checkPrefix(v, "prefix", request.prefix);
      v.check(request.count >= 1 && request.count <= MAX_BATCH_CODES, "count", `must be between 1 and ${MAX_BATCH_CODES}`);
      v.throwIfAny();
      return { codes: await store.generateCodes(promotionId, request.prefix, request.count) };
    },

    async listPromotionCodes(request) {
      requireStaff();
      const v = violations();
      const promotionId = checkId(v, "promotion_id", request.promotionId);
      const page = readPage(v, request, CODES_PAGE_SIZE, { rpc: "ListPromotionCodes", promotion: promotionId }, CODES_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await store.listCodes(promotionId, page);
      return {
        codes: rows.map((row) => create(PromotionCodeSchema, { code: row.code, orderId: row.order_id ?? "", createTime: timestampFromDate(new Date(row.created_at)) })),
        nextPageToken,
      };
    },

    async listPromotionRedemptions(request) {
      requireStaff();
      const v = violations();
      const promotionId = checkId(v, "promotion_id", request.promotionId);
      const page = readPage(v, request, REDEMPTIONS_PAGE_SIZE, { rpc: "ListPromotionRedemptions", promotion: promotionId }, REDEMPTIONS_ORDER);
      v.throwIfAny();
      const { rows, nextPageToken } = await store.listRedemptions(promotionId, page);
      return { redemptions: rows.map((row) => redemptionMessage(redemptionView(row as Record<string, unknown>))), nextPageToken };
    },

    async evaluateCart(request) {
      requireServiceOrAdmin();
      const v = violations();
      checkCurrencyCode(v, "currency_code", request.currencyCode);
      v.check(request.lines.length <= MAX_LINES, "lines", `must hold at most ${MAX_LINES} lines`);
      const skus = new Set<string>();
      request.lines.slice(0, MAX_LINES).forEach((line, i) => {
        checkSku(v, `lines[${i}].sku`, line.sku);
        v.check(!skus.has(line.sku), `lines[${i}].sku`, "repeats a line");
        skus.add(line.sku);
        v.check(line.quantity >= 1 && line.quantity <= 999, `lines[${i}].quantity`, "must be between 1 and 999");
        v.check(line.unitPrice >= 0n, `lines[${i}].unit_price`, "must not be negative");
      });
      v.check(request.shippingPrice >= 0n, "shipping_price", "must not be negative");
      v.check(request.codes.length <= MAX_CART_CODES, "codes", `must hold at most ${MAX_CART_CODES} codes`);
      request.codes.slice(0, MAX_CART_CODES).forEach((code, i) => checkCode(v, `codes[${i}]`, code));
      v.throwIfAny();
      const codes = [...new Set(request.codes.map(normalizeCode))].filter(looksLikeCode);
      const timer = metrics.evaluationSeconds.startTimer();
      const result = await gate.run(() => evaluateCart({
        currency: request.currencyCode,
        lines: request.lines.map((l) => ({ sku: l.sku, productId: l.productId, categoryIds: l.categoryIds, quantity: l.quantity, unitPrice: l.unitPrice })),
        ...(request.shippingOptionId ? { shipping: { optionId: request.shippingOptionId, price: request.shippingPrice } } : {}),
        customer: { id: request.customerId, roles: request.customerRoles },
        codes,
      })).finally(() => timer());
      const currency = request.currencyCode;
      return {
        applied: result.applied.map((a) =>
          create(AppliedPromotionSchema, {
            promotionId: a.promotionId,
            code: a.code,
            label: a.label,
            amount: money(a.amount, currency),
            allocations: a.allocations.flatMap((amount, i) => (amount > 0n ? [create(LineAllocationSchema, { sku: request.lines[i]!.sku, amount })] : [])),
            shippingDiscount: money(a.shippingDiscount, currency),
            freeShipping: a.freeShipping,
          }),
        ),
        rejectedCodes: result.rejected.map((r) => create(RejectedCodeSchema, { code: r.code, reason: rejections[r.reason], message: r.message })),
        discount: money(result.discount, currency),
        shippingDiscount: money(result.shippingDiscount, currency),
      };
    },

    async redeemPromotions(request) {
      requireServiceOrAdmin();
      const v = violations();
      const orderId = checkId(v, "order_id", request.orderId);
      v.check(request.redemptions.length <= MAX_CART_CODES, "redemptions", `must hold at most ${MAX_CART_CODES} redemptions`);
      request.redemptions.slice(0, MAX_CART_CODES).forEach((r, i) => {
        checkUuid(v, `redemptions[${i}].promotion_id`, r.promotionId);
        if (r.code !== "") checkCode(v, `redemptions[${i}].code`, r.code);
        if (v.check(r.amount, `redemptions[${i}].amount`, "is required")) {
          v.check(r.amount!.amountMinor >= 0n, `redemptions[${i}].amount.amount_minor`, "must not be negative");
          checkCurrencyCode(v, `redemptions[${i}].amount.currency_code`, r.amount!.currencyCode);
        }
      });
      v.throwIfAny();
      // Guests are counted per email for per-customer limits.
      const customerId = request.customerId || (request.email ? `email:${request.email.trim().toLowerCase()}` : "");
      const { redemptions: recorded, recorded: fresh } = await gate.run(() => redemptions.redeem({
        orderId,
        customerId,
        redemptions: request.redemptions.map((r) => ({
          promotionId: r.promotionId.toLowerCase(),
          code: normalizeCode(r.code),
          amount: r.amount!.amountMinor,
          currency: r.amount!.currencyCode,
        })),
      })).catch((error: unknown) => {
        metrics.redemptions.inc({ outcome: (error as { reason?: string }).reason ?? "error" }, request.redemptions.length);
        throw error;
      });
      // Counted once per order: a repeated step records nothing new.
      if (fresh > 0) {
        metrics.redemptions.inc({ outcome: "redeemed" }, fresh);
        for (const r of recorded) metrics.givenAway.inc({ currency: r.currency }, Number(r.amount));
      }
      return { redemptions: recorded.map(redemptionMessage) };
    },

    async releasePromotions(request) {
      requireServiceOrAdmin();
      const v = violations();
      const orderId = checkId(v, "order_id", request.orderId);
      v.throwIfAny();
      const released = await gate.run(() => redemptions.release(orderId));
      metrics.released.inc(released);
      return { released };
    },
  };
}
