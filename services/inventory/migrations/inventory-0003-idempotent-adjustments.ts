// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** AdjustStock with an idempotency key: one movement per key, whoever repeats it. */
export class IdempotentAdjustments extends Migration {
  override name = "inventory_0003_idempotent_adjustments";
  override up(): void {
    this.addSql("alter table stock_movement add column idempotency_key text check (length(idempotency_key) between 1 and 128)");
    this.addSql("create unique index stock_movement_idempotency_key on stock_movement (idempotency_key) where idempotency_key is not null");
  }
}
