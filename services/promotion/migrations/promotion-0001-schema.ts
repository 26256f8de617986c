// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Promotions, their codes, redemptions, per-customer uses and the customers' first orders. */
export class PromotionSchema extends Migration {
  override name = "promotion_0001_schema";
  override up(): void {
    // The limits are the database's: redemption_count and budget_spent only move by conditional
    // updates under the row lock, and the CHECKs are the last word whatever the code above does.
    this.addSql(`create table promotion (
      id uuid primary key,
      name text not null check (length(name) between 1 and 400),
      description text not null default '',
      state text not null check (state in ('active', 'paused', 'archived')),
      automatic boolean not null,
      conditions jsonb not null,
      action jsonb not null,
      stacking text not null check (stacking in ('exclusive', 'combinable')),
      priority integer not null check (priority between -1000 and 1000),
      starts_at timestamptz,
      ends_at timestamptz,
      usage_limit bigint check (usage_limit > 0),
      per_customer_limit integer check (per_customer_limit > 0),
      budget bigint check (budget > 0),
      budget_currency text check (budget_currency ~ '^[A-Z]{3}$'),
      redemption_count bigint not null default 0 check (redemption_count >= 0),
      budget_spent bigint not null default 0 check (budget_spent >= 0),
      version integer not null default 1,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp(),
      constraint promotion_window check (ends_at is null or starts_at is null or ends_at > starts_at),
      constraint promotion_within_usage_limit check (usage_limit is null or redemption_count <= usage_limit),
      constraint promotion_within_budget check (budget is null or budget_spent <= budget),
      constraint promotion_budget_currency check ((budget is null) = (budget_currency is null))
    )`);
    this.addSql("create index promotion_newest on promotion (id desc)");
    this.addSql("create index promotion_automatic on promotion (state) where automatic");

    // Codes, upper case: a promotion's shared code, or generated single-use ones (taken by one order).
    this.addSql(`create table promotion_code (
      code text primary key check (code ~ '^[A-Z0-9_-]{1,64}$'),
      promotion_id uuid not null references promotion (id),
      single_use boolean not null,
      order_id uuid,
      created_at timestamptz not null default clock_timestamp(),
      constraint promotion_code_only_single_use_taken check (single_use or order_id is null)
    )`);
    this.addSql("create index promotion_code_by_promotion on promotion_code (promotion_id, code)");
    this.addSql("create index promotion_code_by_order on promotion_code (order_id) where order_id is not null");

    // One redemption per order and promotion: a redelivered saga step finds it and counts nothing.
    this.addSql(`create table redemption (
      id uuid primary key,
      promotion_id uuid not null references promotion (id),
      order_id uuid not null,
      customer_id text not null default '',
      code text not null default '',
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      amount bigint not null check (amount >= 0),
      released_at timestamptz,
      created_at timestamptz not null default clock_timestamp(),
      constraint redemption_once unique (order_id, promotion_id)
    )`);
    this.addSql("create index redemption_by_promotion on redemption (promotion_id, id desc)");

    // Uses per promotion and customer (user id, or email:<address> for a guest), moved like the counts.
    this.addSql(`create table customer_use (
      promotion_id uuid not null references promotion (id),
      customer_id text not null,
      uses integer not null check (uses >= 0),
      primary key (promotion_id, customer_id)
    )`);

    // A customer's first order: claimed by the first order that redeems a first-order promotion (the
    // primary key lets only one), or learnt from order's OrderPlaced events.
    this.addSql(`create table customer_order (
      customer_id text not null,
      order_id uuid not null,
      created_at timestamptz not null default clock_timestamp(),
      primary key (customer_id, order_id)
    )`);
    this.addSql(`create table first_order (
      customer_id text primary key,
      order_id uuid not null
    )`);
  }
}
