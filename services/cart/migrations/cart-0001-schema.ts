// Frozen once released: carts and their lines, with the invariants the shop depends on as constraints
// (quantities 1–999, one line per SKU, at most one active cart per user, a guest cart always has a
// token, state and the columns that go with it agree).
import { Migration } from "@mikro-orm/migrations";

export class CartSchema extends Migration {
  override name = "cart_0001_schema";

  override up(): void {
    this.addSql(`
      create table cart (
        id uuid primary key,
        -- The owner; null for a guest cart, which is reached with its token instead.
        user_id text check (length(user_id) between 1 and 200),
        -- SHA-256 of the guest cart's token, hex; the token itself is never stored.
        token_hash text check (token_hash ~ '^[0-9a-f]{64}$'),
        state text not null check (state in ('active', 'merged', 'checked_out', 'expired')),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        country_code char(2) check (country_code ~ '^[A-Z]{2}$'),
        region text not null default '' check (length(region) <= 100),
        postal_code text not null default '' check (length(postal_code) <= 20),
        shipping_option_id text check (length(shipping_option_id) between 1 and 64),
        order_id uuid,
        merged_into uuid references cart (id),
        created_at timestamptz not null default now(),
        -- Every write moves it; expiry is updated_at plus the guest or user time to live.
        updated_at timestamptz not null default now(),
        check ((user_id is null) <> (token_hash is null)),
        check ((state = 'checked_out') = (order_id is not null)),
        check ((state = 'merged') = (merged_into is not null)),
        check (merged_into is null or user_id is null),
        check ((country_code is null) = (shipping_option_id is null))
      )`);
    this.addSql("create unique index cart_one_active_per_user on cart (user_id) where state = 'active' and user_id is not null");
    this.addSql("create index cart_sweep on cart (updated_at) where state = 'active'");

    this.addSql(`
      create table cart_line (
        cart_id uuid not null references cart (id) on delete cascade,
        sku text not null check (sku ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'),
        quantity integer not null check (quantity between 1 and 999),
        added_at timestamptz not null default clock_timestamp(),
        primary key (cart_id, sku)
      )`);
  }
}
