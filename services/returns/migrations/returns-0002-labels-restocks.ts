// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** A return's label (bought through shipping on approval) and, per line, the units inventory took back. */
export class ReturnLabelsRestocks extends Migration {
  override name = "returns_0002_labels_restocks";
  override up(): void {
    this.addSql(`alter table return_request
      add column label_carrier text not null default '',
      add column label_tracking_number text not null default '',
      add column label_url text not null default '',
      add column label_tracking_url text not null default ''`);
    // restocked < received_resellable: units recorded as received and not yet confirmed by inventory
    // (a crash between the two); the restocker finishes them under the same idempotency key.
    this.addSql(`alter table return_line
      add column restocked integer not null default 0,
      add constraint return_line_restocked_within_resellable check (restocked >= 0 and restocked <= received_resellable)`);
    this.addSql("create index return_line_restock_pending on return_line (return_id, sku) where restocked < received_resellable");
  }
}
