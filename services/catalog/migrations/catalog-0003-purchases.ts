// Frozen once released: who bought which product, from the order service's OrderPlaced (and removed
// again by OrderCancelled), so a review can say "verified purchase".
import { Migration } from "@mikro-orm/migrations";

export class CatalogPurchases extends Migration {
  override name = "catalog_0003_purchases";

  override up(): void {
    this.addSql(`
      create table purchase (
        order_id uuid not null,
        product_id uuid not null,
        user_id text not null check (length(user_id) between 1 and 200),
        purchased_at timestamptz not null default now(),
        primary key (order_id, product_id)
      )`);
    this.addSql("create index purchase_by_buyer on purchase (user_id, product_id)");
  }
}
