// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Zones and their areas, methods with their rates, and quotes. */
export class ShippingSchema extends Migration {
  override name = "shipping_0001_schema";
  override up(): void {
    this.addSql(`create table shipping_zone (
      id uuid primary key,
      name text not null check (length(name) between 1 and 100),
      version integer not null default 1,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql("create index shipping_zone_by_name on shipping_zone (name, id)");

    // The primary key is the rule that no destination is ambiguous: one zone per (country, region,
    // prefix). '' means "any region" / "any postal code".
    this.addSql(`create table shipping_zone_area (
      country_code text not null check (country_code ~ '^[A-Z]{2}$'),
      region text not null check (region ~ '^([A-Z0-9]{1,3})?$'),
      postal_prefix text not null check (postal_prefix ~ '^([A-Z0-9]{1,10})?$'),
      zone_id uuid not null references shipping_zone (id) on delete cascade,
      constraint shipping_zone_area_pkey primary key (country_code, region, postal_prefix)
    )`);
    this.addSql("create index shipping_zone_area_by_zone on shipping_zone_area (zone_id)");

    this.addSql(`create table shipping_method (
      id uuid primary key,
      zone_id uuid not null references shipping_zone (id) on delete cascade,
      code text not null check (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
      name text not null check (length(name) between 1 and 80),
      carrier text not null check (length(carrier) between 1 and 40),
      service_level text not null check (length(service_level) between 1 and 40),
      min_days integer not null check (min_days between 0 and 365),
      max_days integer not null check (max_days between 0 and 365),
      active boolean not null,
      rates jsonb not null check (jsonb_typeof(rates) = 'array'),
      version integer not null default 1,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp(),
      constraint shipping_method_zone_code_key unique (zone_id, code),
      constraint shipping_method_estimate check (min_days <= max_days)
    )`);

    // No foreign key to the zone: a quote keeps its prices when its zone is changed or deleted.
    this.addSql(`create table shipping_quote (
      id uuid primary key,
      country_code text not null,
      region text not null,
      postal_code text not null,
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      subtotal bigint not null check (subtotal >= 0),
      total_weight_grams bigint not null check (total_weight_grams >= 0),
      lines_digest text not null,
      zone_id uuid,
      options jsonb not null check (jsonb_typeof(options) = 'array'),
      created_at timestamptz not null default clock_timestamp(),
      expires_at timestamptz not null
    )`);
    this.addSql("create index shipping_quote_by_expiry on shipping_quote (expires_at)");
  }
}
