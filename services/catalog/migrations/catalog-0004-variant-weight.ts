// Frozen once committed: later changes go into new migrations.
import { Migration } from "@mikro-orm/migrations";

/** What a parcel weighs: each variant's unit weight (0 = not recorded) and optional outer dimensions. */
export class CatalogVariantWeight extends Migration {
  override name = "catalog_0004_variant_weight";
  override up(): void {
    this.addSql(`alter table variant
      add column weight_grams integer not null default 0 check (weight_grams between 0 and 1000000),
      add column length_mm integer check (length_mm between 1 and 10000),
      add column width_mm integer check (width_mm between 1 and 10000),
      add column height_mm integer check (height_mm between 1 and 10000),
      add constraint variant_dimensions_whole check ((length_mm is null) = (width_mm is null) and (width_mm is null) = (height_mm is null))`);
  }
}
