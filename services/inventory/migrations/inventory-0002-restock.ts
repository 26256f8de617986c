// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** RestockReservation: a committed reservation may go back into on-hand stock, once. */
export class Restock extends Migration {
  override name = "inventory_0002_restock";
  override up(): void {
    this.addSql("alter table reservation drop constraint reservation_state_check");
    this.addSql("alter table reservation add constraint reservation_state_check check (state in ('active', 'committed', 'released', 'expired', 'restocked'))");
    // When the units went back; closed_at keeps the commit time. Set exactly for restocked reservations.
    this.addSql("alter table reservation add column restocked_at timestamptz");
    this.addSql("alter table reservation add constraint reservation_restocked_at check ((state = 'restocked') = (restocked_at is not null))");
  }
}
