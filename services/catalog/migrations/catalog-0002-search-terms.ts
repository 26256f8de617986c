// Frozen once released: the words of product names and brands, for correcting typos in search
// queries through a small trigram-indexed table (instead of a trigram scan of every product).
import { Migration } from "@mikro-orm/migrations";

export class CatalogSearchTerms extends Migration {
  override name = "catalog_0002_search_terms";

  override up(): void {
    this.addSql("create table search_term (term text primary key check (length(term) between 1 and 200))");
    this.addSql("create index search_term_trgm on search_term using gin (term gin_trgm_ops)");
    // Terms are only added: a stale one costs nothing (it corrects to a word no product has).
    this.addSql(`
      create function catalog_collect_terms() returns trigger language plpgsql as $$
      begin
        insert into search_term (term)
          select distinct w from regexp_split_to_table(lower(new.name || ' ' || new.brand), '[^[:alnum:]]+') as w
          where length(w) between 2 and 200
        on conflict do nothing;
        return new;
      end $$`);
    this.addSql("create trigger product_search_terms after insert or update of name, brand on product for each row execute function catalog_collect_terms()");
    this.addSql(`
      insert into search_term (term)
        select distinct w from product, regexp_split_to_table(lower(name || ' ' || brand), '[^[:alnum:]]+') as w
        where length(w) between 2 and 200
      on conflict do nothing`);
  }
}
