// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Stock per SKU and location, per-SKU totals, reservations and the movement audit trail. */
export class CreateInventory extends Migration {
  override name = "inventory_0001_create";
  override up(): void {
    // Per-SKU totals: the serialisation point for availability events and the low-stock threshold.
    // `available` is Σ (on_hand − reserved) over the SKU's locations, kept in the same transactions.
    this.addSql(`create table sku_stock (
      sku text primary key check (sku ~ '^[A-Za-z0-9._/-]{1,64}$'),
      available bigint not null default 0 check (available >= 0),
      low_stock_threshold bigint not null default 0 check (low_stock_threshold >= 0),
      updated_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql(`create table stock_level (
      sku text not null references sku_stock (sku),
      location text not null check (location ~ '^[A-Za-z0-9._/-]{1,64}$'),
      on_hand bigint not null check (on_hand >= 0),
      reserved bigint not null default 0 check (reserved >= 0),
      updated_at timestamptz not null default clock_timestamp(),
      primary key (sku, location),
      constraint stock_level_available_not_negative check (on_hand - reserved >= 0)
    )`);
    this.addSql(`create table reservation (
      id uuid primary key,
      reference text not null unique check (length(reference) between 1 and 128),
      state text not null check (state in ('active', 'committed', 'released', 'expired')),
      created_at timestamptz not null default clock_timestamp(),
      expires_at timestamptz not null,
      closed_at timestamptz,
      check ((state = 'active') = (closed_at is null))
    )`);
    this.addSql("create index reservation_expiry on reservation (expires_at) where state = 'active'");
    this.addSql(`create table reservation_line (
      reservation_id uuid not null references reservation (id) on delete cascade,
      sku text not null,
      location text not null,
      quantity bigint not null check (quantity > 0),
      primary key (reservation_id, sku, location),
      foreign key (sku, location) references stock_level (sku, location)
    )`);
    this.addSql("create index reservation_line_stock on reservation_line (sku, location)");
    this.addSql(`create table stock_movement (
      id uuid primary key,
      sku text not null,
      location text not null,
      delta bigint not null check (delta <> 0),
      reason text not null check (reason in ('received', 'sold', 'count_correction', 'damaged', 'lost', 'returned', 'other')),
      note text not null default '' check (length(note) <= 500),
      actor text not null default '',
      on_hand_after bigint not null check (on_hand_after >= 0),
      created_at timestamptz not null default clock_timestamp(),
      foreign key (sku, location) references stock_level (sku, location)
    )`);
    this.addSql("create index stock_movement_by_sku on stock_movement (sku, id desc)");
  }
}

