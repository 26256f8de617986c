// The evaluation engine: pure and deterministic. Given a cart and the candidate promotions (automatic
// ones and those of the cart's codes, with their limits as the database reported them), decides which
// apply, in which order, for how much, and how each amount is shared across the lines.
//
// Order: priority (higher first), then creation time (older first), then id. The first candidate
// whose conditions hold decides the mode: exclusive → it applies alone; combinable → it and every
// later combinable candidate whose conditions hold apply, each to what the ones before left (an
// exclusive one after it is skipped). So the outcome depends only on the inputs, never on timing.
//
// Money: lines and shipping never go below zero (each promotion is capped at what is left); percent
// discounts are rounded half up per promotion (items: per line); order-level amounts are allocated
// across the lines in proportion to what is left of them (allocation.ts's remainder rule).
import { allocate, percentOf } from "./allocation.ts";
import type { Action, Applied, Candidate, CartInput, CartLineInput, Evaluation, PromotionRule, Rejection, RejectedCode, Selector } from "./rules.ts";

const messages: Record<Rejection, string> = {
  UNKNOWN: "This code does not exist.",
  EXPIRED: "This promotion has ended.",
  NOT_STARTED: "This promotion has not started yet.",
  MINIMUM_NOT_REACHED: "Your cart has not reached this promotion's minimum.",
  LIMIT_REACHED: "This promotion has been used up.",
  NOT_FOR_CUSTOMER: "This promotion is not available to you.",
  NOT_APPLICABLE: "Nothing in your cart qualifies for this promotion.",
  NOT_COMBINABLE: "This promotion cannot be combined with another one in your cart.",
  PAUSED: "This promotion is paused.",
};

export const rejectionMessage = (reason: Rejection): string => messages[reason];

function isEmpty(selector: Selector): boolean {
  return selector.skus.length === 0 && selector.productIds.length === 0 && selector.categoryIds.length === 0;
}

export function matches(selector: Selector | undefined, line: CartLineInput): boolean {
  if (!selector || isEmpty(selector)) return true;
  return (
    selector.skus.includes(line.sku) ||
    selector.productIds.includes(line.productId) ||
    line.categoryIds.some((id) => selector.categoryIds.includes(id))
  );
}

const byOrder = (a: Candidate, b: Candidate): number =>
  b.rule.priority - a.rule.priority ||
  a.rule.createdAt.getTime() - b.rule.createdAt.getTime() ||
  (a.rule.id < b.rule.id ? -1 : a.rule.id > b.rule.id ? 1 : 0);

/** Why `rule` does not apply to the cart before its amount is known (undefined: its conditions hold). */
function conditionFailure(rule: PromotionRule, cart: CartInput, remaining: readonly bigint[]): Rejection | undefined {
  if (rule.state === "archived") return "EXPIRED";
  if (rule.state === "paused") return "PAUSED";
  if (rule.startsAt && cart.now < rule.startsAt) return "NOT_STARTED";
  if (rule.endsAt && cart.now >= rule.endsAt) return "EXPIRED";
  const c = rule.conditions;
  const signedIn = cart.customer.id !== "";
  if ((c.signedInOnly || c.firstOrderOnly || c.customerRoles.length > 0) && !signedIn) return "NOT_FOR_CUSTOMER";
  if (c.firstOrderOnly && cart.customer.hasOrdered) return "NOT_FOR_CUSTOMER";
  if (c.customerRoles.length > 0 && !c.customerRoles.some((role) => cart.customer.roles.includes(role))) return "NOT_FOR_CUSTOMER";
  if (c.currencies.length > 0 && !c.currencies.includes(cart.currency)) return "NOT_APPLICABLE";
  if (c.items) {
    const units = cart.lines.reduce((sum, line) => (matches(c.items, line) ? sum + line.quantity : sum), 0);
    if (units < Math.max(1, c.minimumQuantity)) return "NOT_APPLICABLE";
  }
  const minimum = c.minimumSubtotal[cart.currency];
  if (minimum !== undefined && remaining.reduce((sum, r) => sum + r, 0n) < minimum) return "MINIMUM_NOT_REACHED";
  if (!actionCanApply(rule.action, cart)) return "NOT_APPLICABLE";
  return undefined;
}

/** Whether the action has anything to act on in this cart (its lines, currency, shipping option). */
function actionCanApply(action: Action, cart: CartInput): boolean {
  switch (action.kind) {
    case "order_amount":
      return action.amounts[cart.currency] !== undefined;
    case "items_amount":
      return action.amounts[cart.currency] !== undefined && cart.lines.some((line) => matches(action.items, line));
    case "items_percent":
      return cart.lines.some((line) => matches(action.items, line));
    case "free_shipping":
      // Before shipping is chosen it applies (and shows) with nothing off yet.
      return !cart.shipping || action.optionIds.length === 0 || action.optionIds.includes(cart.shipping.optionId);
    case "buy_x_get_y":
      return cart.lines.some((line) => matches(action.buy, line));
    case "order_percent":
      return true;
  }
}

/** Per line: what the action takes off (each ≤ remaining[i]); and off shipping (≤ shippingLeft). */
function amountsOf(action: Action, cart: CartInput, remaining: readonly bigint[], shippingLeft: bigint): { lines: bigint[]; shipping: bigint } {
  const none = remaining.map(() => 0n);
  const total = remaining.reduce((sum, r) => sum + r, 0n);
  switch (action.kind) {
    case "order_percent":
      return { lines: allocate(percentOf(total, action.bps), remaining), shipping: 0n };
    case "order_amount": {
      const amount = action.amounts[cart.currency] ?? 0n;
      return { lines: allocate(amount < total ? amount : total, remaining), shipping: 0n };
    }
    case "items_percent":
      return { lines: cart.lines.map((line, i) => (matches(action.items, line) ? percentOf(remaining[i]!, action.bps) : 0n)), shipping: 0n };
    case "items_amount": {
      const perUnit = action.amounts[cart.currency] ?? 0n;
      return {
        lines: cart.lines.map((line, i) => {
          if (!matches(action.items, line)) return 0n;
          const off = perUnit * BigInt(line.quantity);
          return off < remaining[i]! ? off : remaining[i]!;
        }),
        shipping: 0n,
      };
    }
    case "free_shipping":
      return { lines: none, shipping: cart.shipping ? shippingLeft : 0n };
    case "buy_x_get_y":
      return { lines: buyXGetY(action, cart, remaining), shipping: 0n };
  }
}

/**
 * Buy X get Y: the most rewards r (within maxRewards) such that, after setting aside the cheapest r×Y
 * units of the `get` lines, at least r×X `buy` units remain; those r×Y units are discounted by bps.
 * A unit's price is what is left of its line per unit (rounded down), so a line never goes below zero.
 */
function buyXGetY(action: Extract<Action, { kind: "buy_x_get_y" }>, cart: CartInput, remaining: readonly bigint[]): bigint[] {
  const get = action.get ?? action.buy;
  const lines = cart.lines.map((line, index) => ({
    index,
    unit: line.quantity > 0 ? remaining[index]! / BigInt(line.quantity) : 0n,
    quantity: line.quantity,
    buy: matches(action.buy, line),
    get: matches(get, line),
  }));
  const buyUnits = lines.reduce((sum, l) => (l.buy ? sum + l.quantity : sum), 0);
  // The get lines cheapest first (ties: earlier line), as runs of units.
  const runs = lines.filter((l) => l.get && l.quantity > 0).sort((a, b) => (a.unit === b.unit ? a.index - b.index : a.unit < b.unit ? -1 : 1));
  const getUnits = runs.reduce((sum, r) => sum + r.quantity, 0);
  /** How many of the cheapest `n` get units are also buy units. */
  const overlapIn = (n: number): number => {
    let left = n;
    let overlap = 0;
    for (const run of runs) {
      if (left === 0) break;
      const take = Math.min(left, run.quantity);
      if (run.buy) overlap += take;
      left -= take;
    }
    return overlap;
  };
  const cap = action.maxRewards > 0 ? action.maxRewards : Number.MAX_SAFE_INTEGER;
  let rewards = 0;
  // Feasibility only shrinks as r grows (more units set aside, more needed): stop at the first failure.
  for (let r = Math.min(cap, Math.floor(getUnits / action.getQuantity)); r > 0; r--) {
    const setAside = r * action.getQuantity;
    if (buyUnits - overlapIn(setAside) >= r * action.buyQuantity) {
      rewards = r;
      break;
    }
  }
  const off = remaining.map(() => 0n);
  let left = rewards * action.getQuantity;
  for (const run of runs) {
    if (left === 0) break;
    const take = Math.min(left, run.quantity);
    off[run.index] = percentOf(run.unit * BigInt(take), action.bps);
    left -= take;
  }
  return off;
}

/** Evaluates `cart` against `candidates` (automatic promotions and those its codes name). */
export function evaluate(cart: CartInput, candidates: readonly Candidate[]): Evaluation {
  const remaining = cart.lines.map((line) => line.unitPrice * BigInt(line.quantity));
  let shippingLeft = cart.shipping?.price ?? 0n;
  const applied: Applied[] = [];
  const rejected: RejectedCode[] = [];
  const reject = (code: string | undefined, reason: Rejection) => {
    if (code !== undefined) rejected.push({ code, reason, message: messages[reason] });
  };

  // Codes that name no candidate are unknown; a promotion named twice (two of its codes) counts once.
  const known = new Set(candidates.map((c) => c.code).filter((code) => code !== undefined));
  for (const code of cart.codes) if (!known.has(code)) reject(code, "UNKNOWN");
  const seen = new Set<string>();
  let mode: "exclusive" | "combinable" | undefined;

  for (const candidate of [...candidates].sort(byOrder)) {
    const { rule, code } = candidate;
    if (seen.has(rule.id)) {
      reject(code, "NOT_COMBINABLE");
      continue;
    }
    const failure = conditionFailure(rule, cart, remaining);
    if (failure) {
      reject(code, failure);
      continue;
    }
    if (candidate.limitReached) {
      reject(code, "LIMIT_REACHED");
      continue;
    }
    if (mode === "exclusive" || (mode === "combinable" && rule.stacking === "exclusive")) {
      reject(code, "NOT_COMBINABLE");
      continue;
    }
    const { lines, shipping } = amountsOf(rule.action, cart, remaining, shippingLeft);
    const amount = lines.reduce((sum, a) => sum + a, 0n);
    // Too few units for one reward: nothing qualifies yet.
    if (rule.action.kind === "buy_x_get_y" && amount === 0n) {
      reject(code, "NOT_APPLICABLE");
      continue;
    }
    // A redemption that would pass the budget is refused, so the cart does not promise it.
    if (candidate.budgetLeft !== undefined && amount + shipping > candidate.budgetLeft) {
      reject(code, "LIMIT_REACHED");
      continue;
    }
    seen.add(rule.id);
    mode = rule.stacking;
    lines.forEach((a, i) => (remaining[i]! -= a));
    shippingLeft -= shipping;
    applied.push({ promotionId: rule.id, code: code ?? "", label: rule.name, amount, allocations: lines, shippingDiscount: shipping, freeShipping: rule.action.kind === "free_shipping" });
  }
  // Rejections in the order the codes were entered, whatever the evaluation order was.
  rejected.sort((a, b) => cart.codes.indexOf(a.code) - cart.codes.indexOf(b.code));
  return {
    applied,
    rejected,
    discount: applied.reduce((sum, a) => sum + a.amount, 0n),
    shippingDiscount: applied.reduce((sum, a) => sum + a.shippingDiscount, 0n),
  };
}
