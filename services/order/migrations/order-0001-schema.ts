// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Orders with their line and status-history snapshots, and the idempotency keys of PlaceOrder. */
export class OrderSchema extends Migration {
  override name = "order_0001_schema";
  override up(): void {
    // Money columns are minor units of `currency`; the CHECKs keep the totals and the money flow
    // consistent whatever code writes them: no captured money on a REJECTED order, a CONFIRMED (or
    // later) order paid in full, refunds never above what was captured.
    this.addSql(`create table orders (
      id uuid primary key,
      user_id text not null default '',
      email text not null check (length(email) between 3 and 254),
      cart_id uuid not null,
      cart_token_hash text,
      status text not null check (status in ('PENDING', 'CONFIRMED', 'FULFILLING', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REJECTED', 'REFUNDED')),
      payment_status text not null default 'PENDING'
        check (payment_status in ('PENDING', 'AUTHORIZED', 'PAID', 'PARTIALLY_REFUNDED', 'REFUNDED', 'VOIDED', 'FAILED')),
      failure_reason text check (failure_reason in ('OUT_OF_STOCK', 'PAYMENT_DECLINED', 'INSUFFICIENT_FUNDS', 'PAYMENT_FAILED', 'RESERVATION_EXPIRED')),
      compensation text check (compensation in ('OUT_OF_STOCK', 'PAYMENT_DECLINED', 'INSUFFICIENT_FUNDS', 'PAYMENT_FAILED', 'RESERVATION_EXPIRED')),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      subtotal bigint not null check (subtotal >= 0),
      discount bigint not null check (discount >= 0 and discount <= subtotal),
      shipping bigint not null check (shipping >= 0),
      tax bigint not null check (tax >= 0),
      total bigint not null check (total > 0),
      tax_rate_bps integer not null check (tax_rate_bps >= 0),
      captured bigint not null default 0 check (captured >= 0 and captured <= total),
      refunded bigint not null default 0 check (refunded >= 0 and refunded <= captured),
      shipping_address jsonb not null,
      shipping_option_id text not null,
      payment_method text not null,
      reservation_id uuid,
      cart_completed boolean not null default false,
      cancel_actor text,
      cancel_reason text not null default '',
      lease_until timestamptz not null,
      version integer not null default 1,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp(),
      constraint orders_total_adds_up check (total = subtotal - discount + shipping + tax),
      constraint orders_rejected_holds_no_money check (status <> 'REJECTED' or (failure_reason is not null and captured = refunded)),
      constraint orders_confirmed_is_paid check (status in ('PENDING', 'REJECTED') or captured = total),
      constraint orders_closed_are_refunded check (status not in ('CANCELLED', 'REFUNDED') or refunded = captured)
    )`);
    this.addSql("create index orders_by_user on orders (user_id, id desc)");
    this.addSql("create index orders_by_email on orders (lower(email), id desc)");
    this.addSql("create index orders_by_status on orders (status, id desc)");
    this.addSql("create index orders_by_created on orders (created_at)");
    // What the recovery driver scans: sagas under way, carts not yet completed, cancellations running.
    this.addSql(`create index orders_open_work on orders (lease_until)
      where status = 'PENDING' or (status not in ('PENDING', 'REJECTED') and not cart_completed) or cancel_actor is not null`);

    this.addSql(`create table order_line (
      order_id uuid not null references orders (id) on delete cascade,
      position integer not null check (position >= 0),
      sku text not null check (length(sku) between 1 and 64),
      product_id text not null,
      product_name text not null,
      options jsonb not null default '{}',
      quantity integer not null check (quantity between 1 and 999),
      unit_price bigint not null check (unit_price >= 0),
      line_total bigint not null,
      primary key (order_id, position),
      unique (order_id, sku),
      constraint order_line_total check (line_total = unit_price * quantity)
    )`);
    this.addSql("create index order_line_by_sku on order_line (sku, order_id)");

    this.addSql(`create table order_status_change (
      id bigint generated always as identity primary key,
      order_id uuid not null references orders (id) on delete cascade,
      status text not null,
      actor text not null,
      note text not null default '',
      created_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql("create index order_status_change_by_order on order_status_change (order_id, id)");

    // PlaceOrder's idempotency keys, scoped to the buyer ("user:<sub>" or "guest:<sha256 of cart token>").
    // The primary key decides races between concurrent requests with one key.
    this.addSql(`create table idempotency_key (
      scope text not null,
      key text not null check (length(key) between 1 and 255),
      request_hash text not null,
      -- Deferred: the key is inserted first, so a lost race costs nothing but a rolled-back order row.
      order_id uuid not null references orders (id) on delete cascade deferrable initially deferred,
      created_at timestamptz not null default clock_timestamp(),
      primary key (scope, key)
    )`);
    this.addSql("create index idempotency_key_by_age on idempotency_key (created_at)");
  }
}
