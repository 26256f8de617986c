// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** The promotion codes entered on a cart, upper case, at most 10 (checked when one is added). */
export class CartPromotionCodes extends Migration {
  override name = "cart_0002_promotion_codes";
  override up(): void {
    this.addSql(`create table cart_promotion_code (
      cart_id uuid not null references cart (id) on delete cascade,
      code text not null check (code ~ '^[A-Z0-9_-]{1,64}$'),
      added_at timestamptz not null default clock_timestamp(),
      primary key (cart_id, code)
    )`);
  }
}
