// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** Shipments (parcels of paid orders) and their timelines. */
export class ShippingShipments extends Migration {
  override name = "shipping_0002_shipments";
  override up(): void {
    // One shipment per order comes from its OrderPlaced (origin 'order', unique per order: a
    // redelivered event inserts nothing); splitting adds parcels of origin 'split'.
    this.addSql(`create table shipment (
      id uuid primary key,
      order_id uuid not null,
      origin text not null check (origin in ('order', 'split')),
      user_id text not null default '',
      cart_token_hash text not null default '',
      status text not null check (status in ('pending', 'packed', 'labelled', 'in_transit', 'out_for_delivery', 'delivered', 'exception', 'cancelled')),
      option_id text not null,
      carrier text not null,
      service_level text not null,
      address jsonb not null,
      lines jsonb not null check (jsonb_typeof(lines) = 'array'),
      tracking_number text unique,
      tracking_url text not null default '',
      label_url text not null default '',
      version integer not null default 1,
      created_at timestamptz not null default clock_timestamp(),
      updated_at timestamptz not null default clock_timestamp(),
      constraint shipment_labelled_has_tracking check (status in ('pending', 'packed', 'cancelled') or tracking_number is not null)
    )`);
    this.addSql("create unique index shipment_one_per_order on shipment (order_id) where origin = 'order'");
    this.addSql("create index shipment_by_order on shipment (order_id, id)");
    this.addSql("create index shipment_by_status on shipment (status, created_at, id)");

    // The timeline. A carrier's update carries its own id (update_key): a redelivered one inserts
    // nothing, so it applies once.
    this.addSql(`create table shipment_event (
      id uuid primary key,
      shipment_id uuid not null references shipment (id) on delete cascade,
      kind text not null,
      description text not null default '',
      location text not null default '',
      update_key text unique,
      occurred_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql("create index shipment_event_by_shipment on shipment_event (shipment_id, occurred_at, id)");

    // Signed webhook deliveries already seen (by signature), so a replay inside the window is refused.
    this.addSql(`create table carrier_webhook_delivery (
      signature text primary key,
      received_at timestamptz not null default clock_timestamp()
    )`);
  }
}
