// A promotion as the evaluation engine sees it: plain typed objects, independent of the wire and the
// database (the store and the handlers translate). Money is bigint minor units.

/** Which lines: a line matches when its SKU, product or one of its categories is listed; all empty = every line. */
export interface Selector {
  skus: readonly string[];
  productIds: readonly string[];
  categoryIds: readonly string[];
}

export interface Conditions {
  /** The explicit "applies to every cart" flag (required when nothing else is set). */
  everything: boolean;
  /** Least subtotal (after promotions applied before this one) by currency. */
  minimumSubtotal: Readonly<Record<string, bigint>>;
  /** Matching lines the cart must hold, at least `minimumQuantity` units of them. */
  items?: Selector;
  minimumQuantity: number;
  signedInOnly: boolean;
  firstOrderOnly: boolean;
  /** Any of these roles (empty: any customer). */
  customerRoles: readonly string[];
  /** Any of these currencies (empty: any). */
  currencies: readonly string[];
}

export type Action =
  | { kind: "order_percent"; bps: number }
  | { kind: "order_amount"; amounts: Readonly<Record<string, bigint>> }
  | { kind: "items_percent"; items: Selector; bps: number }
  /** Off each matching unit. */
  | { kind: "items_amount"; items: Selector; amounts: Readonly<Record<string, bigint>> }
  /** Empty optionIds: every shipping option. */
  | { kind: "free_shipping"; optionIds: readonly string[] }
  /** `get` undefined: the same as `buy`. maxRewards 0: no limit. */
  | { kind: "buy_x_get_y"; buy: Selector; buyQuantity: number; get?: Selector; getQuantity: number; bps: number; maxRewards: number };

export type PromotionStateName = "active" | "paused" | "archived";
export type Stacking = "exclusive" | "combinable";

export interface PromotionRule {
  id: string;
  name: string;
  state: PromotionStateName;
  automatic: boolean;
  conditions: Conditions;
  action: Action;
  stacking: Stacking;
  priority: number;
  startsAt?: Date;
  endsAt?: Date;
  createdAt: Date;
}

/** A promotion the cart may get, with what the database says of its limits for this customer. */
export interface Candidate {
  rule: PromotionRule;
  /** The code it came by (upper case); undefined for an automatic promotion. */
  code?: string;
  /** Total or per-customer limit reached, or the single-use code used. */
  limitReached: boolean;
  /** What is left of its budget in the cart's currency; undefined without a budget (or in another currency: 0). */
  budgetLeft?: bigint;
}

export interface CartLineInput {
  sku: string;
  productId: string;
  categoryIds: readonly string[];
  quantity: number;
  /** Per unit, ≥ 0. */
  unitPrice: bigint;
}

export interface CartInput {
  currency: string;
  lines: readonly CartLineInput[];
  /** The selected option and its price (from whatever priced shipping); undefined while unknown. */
  shipping?: { optionId: string; price: bigint };
  customer: { id: string; roles: readonly string[]; hasOrdered: boolean };
  /** Codes entered (upper case), in the order entered. */
  codes: readonly string[];
  now: Date;
}

export type Rejection =
  | "UNKNOWN"
  | "EXPIRED"
  | "NOT_STARTED"
  | "MINIMUM_NOT_REACHED"
  | "LIMIT_REACHED"
  | "NOT_FOR_CUSTOMER"
  | "NOT_APPLICABLE"
  | "NOT_COMBINABLE"
  | "PAUSED";

export interface Applied {
  promotionId: string;
  code: string;
  label: string;
  /** On the lines: Σ allocations. */
  amount: bigint;
  /** One per cart line, in the cart's order (zero for lines it does not touch). */
  allocations: bigint[];
  shippingDiscount: bigint;
  /** A free-shipping promotion (waives whatever the final shipping price is). */
  freeShipping: boolean;
}

export interface RejectedCode {
  code: string;
  reason: Rejection;
  message: string;
}

export interface Evaluation {
  applied: Applied[];
  rejected: RejectedCode[];
  discount: bigint;
  shippingDiscount: bigint;
}
