// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Returns, their lines and history, and per order line the units still returnable. */
export class ReturnsSchema extends Migration {
  override name = "returns_0001_schema";
  override up(): void {
    // One row per order line ever asked about: what was delivered, what returns hold (claimed) and
    // what was refunded. The CHECK is the last word on "no more than delivered", even when two
    // requests race for the last unit (each claims with one conditional update under the row lock).
    this.addSql(`create table returnable_line (
      order_id uuid not null,
      sku text not null,
      delivered integer not null check (delivered > 0),
      claimed integer not null default 0,
      refunded_units integer not null default 0,
      line_amount bigint not null check (line_amount >= 0),
      primary key (order_id, sku),
      constraint returnable_line_within_delivered check (claimed >= 0 and claimed <= delivered),
      constraint returnable_line_refunded_within_delivered check (refunded_units >= 0 and refunded_units <= delivered)
    )`);

    this.addSql(`create table return_request (
      id uuid primary key,
      order_id uuid not null,
      user_id text not null default '',
      email text not null default '',
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      status text not null check (status in ('REQUESTED', 'APPROVED', 'RECEIVED', 'REFUNDED', 'REJECTED', 'CANCELLED')),
      reason text not null check (reason in ('DAMAGED', 'WRONG_ITEM', 'NOT_AS_DESCRIBED', 'CHANGED_MIND', 'OTHER')),
      comment text not null default '' check (length(comment) <= 1000),
      refund_state text not null default 'none' check (refund_state in ('none', 'intended', 'done')),
      refund_amount bigint not null default 0 check (refund_amount >= 0),
      include_shipping boolean not null default false,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql("create index return_request_by_order on return_request (order_id, id)");
    this.addSql("create index return_request_by_status on return_request (status, id desc)");
    this.addSql("create index return_request_refund_intended on return_request (id) where refund_state = 'intended'");

    this.addSql(`create table return_line (
      return_id uuid not null,
      sku text not null,
      quantity integer not null check (quantity > 0),
      received_resellable integer not null default 0 check (received_resellable >= 0),
      received_damaged integer not null default 0 check (received_damaged >= 0),
      refund_amount bigint not null default 0 check (refund_amount >= 0),
      primary key (return_id, sku),
      constraint return_line_received_within_quantity check (received_resellable + received_damaged <= quantity)
    )`);

    this.addSql(`create table return_status_change (
      id uuid primary key,
      return_id uuid not null,
      status text not null,
      actor text not null,
      note text not null default '',
      changed_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql("create index return_status_change_by_return on return_status_change (return_id, changed_at, id)");

    // An order's shipping is refunded at most once, by the first return that includes it.
    this.addSql(`create table shipping_refund (
      order_id uuid primary key,
      return_id uuid not null,
      amount bigint not null check (amount >= 0)
    )`);
  }
}
