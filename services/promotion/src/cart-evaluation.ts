// EvaluateCart's reads: the candidates of a cart (every active automatic promotion, and the
// promotions of its codes whatever their state, so that each code gets its reason),
// with what the database says of their limits for this customer; then the engine decides.
import { pgArray, query, type Database, type EntityManager } from "@bazaar/platform";
import { evaluate } from "./evaluation.ts";
import { ruleOf, type PromotionRow } from "./rule-codec.ts";
import type { Candidate, CartInput, Evaluation, PromotionRule } from "./rules.ts";

type CandidateRow = PromotionRow & Record<string, unknown> & { code: string | null; single_use: boolean | null; code_order_id: string | null; customer_uses: number | null };

const promotionColumns = `p.id, p.name, p.description, p.state, p.automatic, p.conditions, p.action, p.stacking, p.priority, p.starts_at, p.ends_at,
  p.usage_limit, p.per_customer_limit, p.budget, p.budget_currency, p.redemption_count, p.budget_spent, p.version, p.created_at, p.updated_at`;

/** Whether a customer has ordered before (from order's events, or a first-order promotion taken). */
export async function hasOrdered(em: EntityManager, customerId: string, exceptOrderId?: string): Promise<boolean> {
  if (customerId === "") return false;
  const [row] = await query(
    em,
    `select exists (select 1 from customer_order where customer_id = ? and order_id is distinct from ?::uuid)
         or exists (select 1 from first_order where customer_id = ? and order_id is distinct from ?::uuid) as ordered`,
    [customerId, exceptOrderId ?? null, customerId, exceptOrderId ?? null],
  );
  return row?.ordered === true;
}

/**
 * Compiled rules by promotion id and version: decoding a promotion's conditions and action from JSON
 * costs more than evaluating it, and every change (update, pause, archive) moves the version.
 */
const MAX_CACHED_RULES = 10_000;
type RuleCache = Map<string, { version: number; rule: PromotionRule }>;

function ruleFor(cache: RuleCache, row: CandidateRow): PromotionRule {
  const cached = cache.get(row.id);
  if (cached && cached.version === row.version) return cached.rule;
  const rule = ruleOf({
    ...row,
    starts_at: row.starts_at && new Date(row.starts_at),
    ends_at: row.ends_at && new Date(row.ends_at),
    created_at: new Date(row.created_at),
  });
  if (cache.size >= MAX_CACHED_RULES) cache.clear();
  cache.set(row.id, { version: row.version, rule });
  return rule;
}

function candidateOf(cache: RuleCache, row: CandidateRow, currency: string): Candidate {
  const rule = ruleFor(cache, row);
  const count = BigInt(row.redemption_count);
  const limitReached =
    (row.usage_limit !== null && count >= BigInt(row.usage_limit)) ||
    (row.per_customer_limit !== null && (row.customer_uses ?? 0) >= row.per_customer_limit) ||
    (row.single_use === true && row.code_order_id !== null);
  const budgetLeft = row.budget === null ? undefined : row.budget_currency === currency ? BigInt(row.budget) - BigInt(row.budget_spent) : 0n;
  return { rule, ...(row.code !== null ? { code: row.code } : {}), limitReached, ...(budgetLeft !== undefined ? { budgetLeft } : {}) };
}

export type CartEvaluator = (cart: Omit<CartInput, "now" | "customer"> & { customer: { id: string; roles: readonly string[] } }) => Promise<Evaluation>;

/** Evaluates a cart (codes upper case) against the promotions as the database holds them now. */
export function createCartEvaluator(database: Database): CartEvaluator {
  const cache: RuleCache = new Map();
  return (cart) => evaluateCart(database, cache, cart);
}

async function evaluateCart(database: Database, cache: RuleCache, cart: Parameters<CartEvaluator>[0]): Promise<Evaluation> {
  const em = database.em();
  const customerId = cart.customer.id;
  // One statement (one connection): the candidates, each with whether the customer has ordered.
  const rows = await query<CandidateRow & { has_ordered: boolean }>(
    em,
    `with customer as (
       select exists (select 1 from customer_order where customer_id = ?) or exists (select 1 from first_order where customer_id = ?) as has_ordered
     )
     select ${promotionColumns}, null::text as code, null::boolean as single_use, null::uuid as code_order_id, u.uses as customer_uses, customer.has_ordered
       from customer, promotion p left join customer_use u on u.promotion_id = p.id and u.customer_id = ?
      where p.automatic and p.state = 'active'
     union all
     select ${promotionColumns}, c.code, c.single_use, c.order_id, u.uses, customer.has_ordered
       from customer, promotion_code c join promotion p on p.id = c.promotion_id left join customer_use u on u.promotion_id = p.id and u.customer_id = ?
      where c.code = any(?::text[])`,
    [customerId, customerId, customerId, customerId, pgArray(cart.codes)],
  );
  const ordered = customerId !== "" && rows.some((row) => row.has_ordered === true);
  return evaluate(
    { ...cart, customer: { ...cart.customer, hasOrdered: ordered }, now: new Date() },
    rows.map((row) => candidateOf(cache, row, cart.currency)),
  );
}
