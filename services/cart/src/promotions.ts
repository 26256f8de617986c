// The cart's promotions: the codes a cart holds (cart_promotion_code) and the promotion service's
// evaluation of the cart (EvaluateCart, a NO_SIDE_EFFECTS call through upstreams, on the cart's own
// authority with the buyer named), turned into what pricing and the Cart message need.
//
// When promotion cannot be reached, a read shows the cart without discounts and flags its codes
// (reason PROMOTION_UNAVAILABLE); a checkout or an applied code is refused instead (`required`), so
// that nobody is charged without a discount the cart promised.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { currentPrincipal, dependencyUnavailable, query, type EntityManager, type ServiceRuntime, type Violations } from "@bazaar/platform";
import { CartPromotionAllocationSchema, CartPromotionCodeSchema, CartPromotionSchema, type CartPromotion, type CartPromotionCode } from "@bazaar/contracts/bazaar/cart/v1/cart_pb";
import { CodeRejection, PromotionService } from "@bazaar/contracts/bazaar/promotion/v1/promotion_service_pb";
import { MoneySchema } from "@bazaar/contracts/bazaar/type/v1/money_pb";
import { NO_PROMOTIONS, type PromotionDiscount } from "./pricing.ts";

/** At most this many codes on one cart (the promotion service evaluates at most 10). */
export const MAX_CART_CODES = 10;

/** A code as typed: 1–64 of A–Z, 0–9, '-', '_' (case-insensitive), no spaces. */
export function checkPromotionCode(v: Violations, field: string, code: string): boolean {
  if (!v.check(code !== "", field, "is required")) return false;
  return v.check(/^[A-Za-z0-9_-]{1,64}$/.test(code), field, "must be 1–64 of A–Z, 0–9, '-' and '_' (no spaces)");
}

/** A buyable line as the evaluation sees it. */
export interface PromotableLine {
  sku: string;
  productId: string;
  categoryIds: readonly string[];
  quantity: number;
  unitPrice: bigint;
}

export interface PromotionInput {
  currency: string;
  lines: readonly PromotableLine[];
  /** The chosen option and its price as the cart computed it; undefined while unknown. */
  shipping?: { optionId: string; price: bigint };
  /** Upper case, in the order entered. */
  codes: readonly string[];
}

/** An applied promotion before the final shipping price is known. */
export interface AppliedPromotion {
  promotionId: string;
  code: string;
  label: string;
  amount: bigint;
  allocations: Array<{ sku: string; amount: bigint }>;
  freeShipping: boolean;
}

export interface CartPromotions {
  applied: AppliedPromotion[];
  /** The codes held, each with whether it applies and, if not, why. */
  codes: Array<{ code: string; applied: boolean; reason: string; message: string }>;
  discount: PromotionDiscount;
}

export const reasons: Record<CodeRejection, string> = {
  [CodeRejection.UNSPECIFIED]: "PROMOTION_NOT_APPLICABLE",
  [CodeRejection.UNKNOWN]: "PROMOTION_CODE_UNKNOWN",
  [CodeRejection.EXPIRED]: "PROMOTION_EXPIRED",
  [CodeRejection.NOT_STARTED]: "PROMOTION_NOT_STARTED",
  [CodeRejection.MINIMUM_NOT_REACHED]: "PROMOTION_MINIMUM_NOT_REACHED",
  [CodeRejection.LIMIT_REACHED]: "PROMOTION_LIMIT_REACHED",
  [CodeRejection.NOT_FOR_CUSTOMER]: "PROMOTION_NOT_FOR_CUSTOMER",
  [CodeRejection.NOT_APPLICABLE]: "PROMOTION_NOT_APPLICABLE",
  [CodeRejection.NOT_COMBINABLE]: "PROMOTION_NOT_COMBINABLE",
  [CodeRejection.PAUSED]: "PROMOTION_PAUSED",
};

export interface EvaluationOptions {
  required: boolean;
  /** The buyer when the call is not theirs (a service's PrepareCheckout); default: the signed-in caller. */
  customer?: { id: string; roles: readonly string[] };
}

export type PromotionEvaluator = (input: PromotionInput, options: EvaluationOptions) => Promise<CartPromotions>;

const nothing = (codes: readonly string[], reason = "", message = ""): CartPromotions => ({
  applied: [],
  codes: codes.map((code) => ({ code, applied: false, reason, message })),
  discount: NO_PROMOTIONS,
});

export function createPromotionEvaluator(runtime: ServiceRuntime): PromotionEvaluator {
  return async (input, { required, customer: given }) => {
    // Nothing to discount and no code to explain: no call (an empty cart is the most common read).
    if (input.lines.length === 0 && input.codes.length === 0) return nothing([]);
    const principal = currentPrincipal();
    const customer = given ?? (principal?.kind === "user" ? { id: principal.subject, roles: principal.roles } : undefined);
    let response;
    try {
      // On the cart's authority (EvaluateCart is for services), naming the buyer.
      response = await runtime.serviceClientFor(PromotionService).evaluateCart({
        currencyCode: input.currency,
        lines: input.lines.map((line) => ({ ...line, categoryIds: [...line.categoryIds] })),
        shippingOptionId: input.shipping?.optionId ?? "",
        shippingPrice: input.shipping?.price ?? 0n,
        customerId: customer?.id ?? "",
        customerRoles: [...(customer?.roles ?? [])],
        codes: [...input.codes],
      });
    } catch (error) {
      const code = ConnectError.from(error).code;
      const down = code === Code.Unavailable || code === Code.ResourceExhausted || code === Code.DeadlineExceeded;
      if (down && required) throw dependencyUnavailable("promotion", error, "the cart's promotions cannot be evaluated");
      if (down) return nothing(input.codes, "PROMOTION_UNAVAILABLE", "Promotions cannot be checked right now.");
      throw error;
    }
    const rejected = new Map(response.rejectedCodes.map((r) => [r.code, r]));
    const applied = response.applied.map((a) => ({
      promotionId: a.promotionId,
      code: a.code,
      label: a.label,
      amount: a.amount?.amountMinor ?? 0n,
      allocations: a.allocations.map((x) => ({ sku: x.sku, amount: x.amount })),
      freeShipping: a.freeShipping,
    }));
    return {
      applied,
      codes: input.codes.map((code) => {
        const r = rejected.get(code);
        return r ? { code, applied: false, reason: reasons[r.reason], message: r.message } : { code, applied: applied.some((a) => a.code === code), reason: "", message: "" };
      }),
      discount: { lines: response.discount?.amountMinor ?? 0n, freeShipping: applied.some((a) => a.freeShipping) },
    };
  };
}

/** The promotions as the Cart shows them; `shippingPrice` is the option's final price before free shipping. */
export function cartPromotionMessages(promotions: CartPromotions, currency: string, shippingPrice: bigint): { applied: CartPromotion[]; codes: CartPromotionCode[] } {
  const money = (amountMinor: bigint) => create(MoneySchema, { currencyCode: currency, amountMinor });
  // Only the first free-shipping promotion waives the price; any later one has nothing left to waive.
  let waived = false;
  return {
    applied: promotions.applied.map((a) => {
      const shippingDiscount = a.freeShipping && !waived ? shippingPrice : 0n;
      waived ||= a.freeShipping;
      return create(CartPromotionSchema, {
        promotionId: a.promotionId,
        code: a.code,
        label: a.label,
        amount: money(a.amount),
        allocations: a.allocations.map((x) => create(CartPromotionAllocationSchema, { sku: x.sku, amountMinor: x.amount })),
        shippingDiscount: money(shippingDiscount),
      });
    }),
    codes: promotions.codes.map((c) => create(CartPromotionCodeSchema, c)),
  };
}

/** Adds `code` under the cart's lock (a repeat changes nothing); false when the cart holds 10 already. */
export async function addCode(em: EntityManager, cartId: string, code: string): Promise<boolean> {
  const [row] = await query(
    em,
    `insert into cart_promotion_code (cart_id, code)
     select ?, ? where (select count(*) from cart_promotion_code where cart_id = ?) < ? or exists (select 1 from cart_promotion_code where cart_id = ? and code = ?)
     on conflict do nothing returning code`,
    [cartId, code, cartId, MAX_CART_CODES, cartId, code],
  );
  if (row) return true;
  const [held] = await query(em, "select 1 from cart_promotion_code where cart_id = ? and code = ?", [cartId, code]);
  return held !== undefined;
}

export async function removeCode(em: EntityManager, cartId: string, code: string): Promise<void> {
  await em.execute("delete from cart_promotion_code where cart_id = ? and code = ?", [cartId, code], "run");
}

/** A merged guest cart's codes join the user's cart, oldest first, up to the limit. */
export async function mergeCodes(em: EntityManager, fromCartId: string, toCartId: string): Promise<void> {
  await em.execute(
    `insert into cart_promotion_code (cart_id, code, added_at)
     select ?, code, added_at from cart_promotion_code where cart_id = ?
        and code not in (select code from cart_promotion_code where cart_id = ?)
      order by added_at, code
      limit greatest(0, ? - (select count(*) from cart_promotion_code where cart_id = ?))
     on conflict do nothing`,
    [toCartId, fromCartId, toCartId, MAX_CART_CODES, toCartId],
    "run",
  );
}
