// Redemptions: the checkout saga's step and its compensation. Every limit is the database's:
//   - total uses and budget: one conditional UPDATE of the promotion row (its WHERE re-checked under
//     the row lock, so concurrent checkouts queue there and exactly the limit pass), CHECKs behind it;
//   - per customer: a conditional upsert of (promotion, customer) uses;
//   - a single-use code: a conditional UPDATE that takes it for this order only;
//   - first order: the customer's first_order row, one per customer (primary key).
// One order's redemptions are one transaction: all recorded, or none (the first refusal names its
// reason). Idempotent per order: the (order, promotion) unique key makes a repeat count nothing.
import { FailedPreconditionError, isForeignKeyViolation, publish, query, type Database, type EntityManager } from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { uuidv7 } from "uuidv7";
import { PromotionRedeemedSchema, PromotionRedemptionReleasedSchema } from "@bazaar/contracts/bazaar/promotion/v1/events_pb";
import { hasOrdered } from "./cart-evaluation.ts";
import { money } from "./rule-codec.ts";

export interface RedeemRequest {
  orderId: string;
  /** The user id, or "email:<address>" for a guest; empty when unknown. */
  customerId: string;
  redemptions: Array<{ promotionId: string; code: string; amount: bigint; currency: string }>;
}

export interface RedemptionView {
  id: string;
  promotionId: string;
  orderId: string;
  customerId: string;
  code: string;
  currency: string;
  amount: bigint;
  releasedAt: Date | null;
  createdAt: Date;
}

export const redemptionView = (row: Record<string, unknown>): RedemptionView => ({
  id: String(row.id),
  promotionId: String(row.promotion_id),
  orderId: String(row.order_id),
  customerId: String(row.customer_id),
  code: String(row.code),
  currency: String(row.currency),
  amount: BigInt(row.amount as string | bigint),
  releasedAt: row.released_at ? new Date(row.released_at as string) : null,
  createdAt: new Date(row.created_at as string),
});

const refused = (reason: string, message: string, promotionId: string) => new FailedPreconditionError(message, { reason, metadata: { promotion_id: promotionId } });

/** Why the promotion row refused the use (read after the conditional update matched nothing). */
async function whyRefused(em: EntityManager, promotionId: string, amount: bigint, currency: string): Promise<FailedPreconditionError> {
  const [p] = await query(em, "select state, starts_at, ends_at, usage_limit, redemption_count, budget, budget_spent, budget_currency, now() as now from promotion where id = ?", [promotionId]);
  if (!p) return refused("PROMOTION_INACTIVE", `promotion ${promotionId} does not exist`, promotionId);
  const now = new Date(p.now as string);
  if (p.state !== "active" || (p.starts_at && new Date(p.starts_at as string) > now) || (p.ends_at && new Date(p.ends_at as string) <= now)) {
    return refused("PROMOTION_INACTIVE", "this promotion is no longer running", promotionId);
  }
  if (p.usage_limit !== null && BigInt(p.redemption_count as string) >= BigInt(p.usage_limit as string)) {
    return refused("PROMOTION_LIMIT_REACHED", "this promotion has been used up", promotionId);
  }
  if (p.budget !== null && (p.budget_currency !== currency || BigInt(p.budget_spent as string) + amount > BigInt(p.budget as string))) {
    return refused("PROMOTION_BUDGET_EXHAUSTED", "this promotion's budget is spent", promotionId);
  }
  return refused("PROMOTION_INACTIVE", "this promotion cannot be used now", promotionId);
}

export function createRedemptions(database: Database) {
  /** Records one redemption; false when an earlier delivery of the step recorded it already. */
  async function redeemOne(em: EntityManager, request: RedeemRequest, r: RedeemRequest["redemptions"][number]): Promise<boolean> {
    const id = uuidv7();
    const [inserted] = await query(
      em,
      `insert into redemption (id, promotion_id, order_id, customer_id, code, currency, amount) values (?, ?, ?, ?, ?, ?, ?)
       on conflict (order_id, promotion_id) do nothing
       returning (select per_customer_limit from promotion where id = ?) as per_customer_limit,
                 (select (conditions->>'firstOrderOnly')::boolean from promotion where id = ?) as first_order_only`,
      [id, r.promotionId, request.orderId, request.customerId, r.code, r.currency, r.amount.toString(), r.promotionId, r.promotionId],
    );
    if (!inserted) return false; // redeemed by an earlier delivery of this step

    if (inserted.per_customer_limit !== null && request.customerId !== "") {
      const [used] = await query(
        em,
        `insert into customer_use (promotion_id, customer_id, uses) values (?, ?, 1)
         on conflict (promotion_id, customer_id) do update set uses = customer_use.uses + 1 where customer_use.uses < ?
         returning uses`,
        [r.promotionId, request.customerId, inserted.per_customer_limit],
      );
      if (!used) throw refused("PROMOTION_CUSTOMER_LIMIT_REACHED", "you have used this promotion as often as it allows", r.promotionId);
    }

    if (r.code !== "") {
      const [code] = await query(
        em,
        `update promotion_code set order_id = ? where code = ? and promotion_id = ? and single_use and (order_id is null or order_id = ?) returning code`,
        [request.orderId, r.code, r.promotionId, request.orderId],
      );
      if (!code) {
        const [shared] = await query(em, "select 1 from promotion_code where code = ? and promotion_id = ? and not single_use", [r.code, r.promotionId]);
        if (!shared) throw refused("PROMOTION_CODE_USED", `the code ${r.code} has been used`, r.promotionId);
      }
    }

    if (inserted.first_order_only === true) {
      if (request.customerId === "" || request.customerId.startsWith("email:")) throw refused("PROMOTION_NOT_FIRST_ORDER", "this promotion is for a signed-in customer's first order", r.promotionId);
      await em.execute("insert into first_order (customer_id, order_id) values (?, ?) on conflict (customer_id) do nothing", [request.customerId, request.orderId], "run");
      if (await hasOrdered(em, request.customerId, request.orderId)) {
        throw refused("PROMOTION_NOT_FIRST_ORDER", "this promotion is for your first order only", r.promotionId);
      }
    }

    await publish(
      em,
      PromotionRedeemedSchema,
      create(PromotionRedeemedSchema, { promotionId: r.promotionId, redemptionId: id, orderId: request.orderId, code: r.code, amount: money(r.amount, r.currency) }),
    );

    // Last, so that the hot row (every checkout of a popular promotion queues here) stays locked only
    // for this statement and the commit.
    const [counted] = await query(
      em,
      `update promotion set redemption_count = redemption_count + 1, budget_spent = budget_spent + ?, updated_at = clock_timestamp()
        where id = ? and state = 'active' and (starts_at is null or starts_at <= now()) and (ends_at is null or ends_at > now())
          and (usage_limit is null or redemption_count < usage_limit)
          and (budget is null or (budget_currency = ? and budget_spent + ? <= budget))
        returning id`,
      [r.amount.toString(), r.promotionId, r.currency, r.amount.toString()],
    );
    if (!counted) throw await whyRefused(em, r.promotionId, r.amount, r.currency);
    return true;
  }

  return {
    /** The order's redemptions, and how many of them this call recorded (0 for a repeat). */
    async redeem(request: RedeemRequest): Promise<{ redemptions: RedemptionView[]; recorded: number }> {
      return database
        .transaction(async (em) => {
          let recorded = 0;
          // A stable order, so two orders redeeming the same promotions never wait on each other in a cycle.
          for (const r of [...request.redemptions].sort((a, b) => (a.promotionId < b.promotionId ? -1 : 1))) {
            if (await redeemOne(em, request, r)) recorded++;
          }
          const redemptions = (await query(em, "select * from redemption where order_id = ? order by promotion_id", [request.orderId])).map(redemptionView);
          return { redemptions, recorded };
        })
        .catch((error: unknown) => {
          if (isForeignKeyViolation(error, "redemption_promotion_id_fkey")) {
            throw new FailedPreconditionError("a promotion of the order does not exist", { reason: "PROMOTION_INACTIVE" });
          }
          throw error;
        });
    },

    /** Gives back the order's current redemptions; answers how many this call gave back. */
    async release(orderId: string): Promise<number> {
      return database.transaction(async (em) => {
        const released = await query(
          em,
          "update redemption set released_at = clock_timestamp() where order_id = ? and released_at is null returning *",
          [orderId],
        );
        for (const row of released.map(redemptionView).sort((a, b) => (a.promotionId < b.promotionId ? -1 : 1))) {
          await em.execute(
            "update promotion set redemption_count = redemption_count - 1, budget_spent = budget_spent - ?, updated_at = clock_timestamp() where id = ?",
            [row.amount.toString(), row.promotionId],
            "run",
          );
          if (row.customerId !== "") {
            await em.execute("update customer_use set uses = uses - 1 where promotion_id = ? and customer_id = ? and uses > 0", [row.promotionId, row.customerId], "run");
          }
          await publish(
            em,
            PromotionRedemptionReleasedSchema,
            create(PromotionRedemptionReleasedSchema, { promotionId: row.promotionId, redemptionId: row.id, orderId, amount: money(row.amount, row.currency) }),
          );
        }
        if (released.length > 0) {
          await em.execute("update promotion_code set order_id = null where order_id = ?", [orderId], "run");
          await em.execute("delete from first_order where order_id = ?", [orderId], "run");
        }
        return released.length;
      });
    },
  };
}

export type Redemptions = ReturnType<typeof createRedemptions>;
