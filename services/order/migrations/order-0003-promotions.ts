// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

const reasons = [
  "OUT_OF_STOCK",
  "PAYMENT_DECLINED",
  "INSUFFICIENT_FUNDS",
  "PAYMENT_FAILED",
  "RESERVATION_EXPIRED",
  "PROMOTION_LIMIT_REACHED",
  "PROMOTION_CUSTOMER_LIMIT_REACHED",
  "PROMOTION_BUDGET_EXHAUSTED",
  "PROMOTION_CODE_USED",
  "PROMOTION_NOT_FIRST_ORDER",
  "PROMOTION_INACTIVE",
]
  .map((r) => `'${r}'`)
  .join(", ");

/** The promotions an order redeems (from the priced cart), and the promotion refusals as failure reasons. */
export class OrderPromotions extends Migration {
  override name = "order_0003_promotions";
  override up(): void {
    // [{ "promotionId", "code", "amount" (minor units, items and shipping) }], redeemed by the saga.
    this.addSql("alter table orders add column promotions jsonb not null default '[]'::jsonb");
    this.addSql(`alter table orders drop constraint orders_failure_reason_check, add constraint orders_failure_reason_check check (failure_reason in (${reasons}))`);
    this.addSql(`alter table orders drop constraint orders_compensation_check, add constraint orders_compensation_check check (compensation in (${reasons}))`);
  }
}
