// Frozen once released: the catalog's tables, its invariants as constraints, and the indexes that
// browsing and search need (GIN full-text and trigram, keyset orderings).
import { Migration } from "@mikro-orm/migrations";

export class CatalogSchema extends Migration {
  override name = "catalog_0001_schema";

  override up(): void {
    this.addSql("create extension if not exists pg_trgm");
    // array_to_string is only STABLE; over text[] it cannot change, so this wrapper may be IMMUTABLE
    // (and so usable in the generated search vector).
    this.addSql("create function catalog_words(text[]) returns text language sql immutable parallel safe as $$ select array_to_string($1, ' ') $$");
    this.addSql(`
      create table category (
        id uuid primary key,
        parent_id uuid references category (id),
        slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 120),
        name text not null check (length(name) between 1 and 120),
        -- "/<root id>/…/<own id>/": a descendant's path starts with its ancestor's.
        path text not null unique,
        version integer not null default 1,
        created_at timestamptz not null default now(),
        check (parent_id is null or parent_id <> id)
      )`);
    this.addSql("create index category_path_prefix on category (path text_pattern_ops)");
    this.addSql("create index category_parent on category (parent_id)");

    this.addSql(`
      create table product (
        id uuid primary key,
        slug text not null unique check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 120),
        name text not null check (length(name) between 1 and 200),
        description text not null default '' check (length(description) <= 10000),
        brand text not null default '' check (length(brand) <= 80),
        category_id uuid not null references category (id),
        status text not null check (status in ('draft', 'active', 'archived')),
        tags text[] not null default '{}',
        image_urls text[] not null default '{}',
        attributes jsonb not null default '{}' check (jsonb_typeof(attributes) = 'object'),
        in_stock boolean not null default false,
        rating_count integer not null default 0 check (rating_count >= 0),
        rating_sum integer not null default 0 check (rating_sum >= 0),
        rating_avg double precision generated always as (case when rating_count = 0 then 0 else rating_sum::double precision / rating_count end) stored,
        version integer not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        search_vector tsvector generated always as (
          setweight(to_tsvector('english', name), 'A') ||
          setweight(to_tsvector('english', brand), 'B') ||
          setweight(to_tsvector('english', catalog_words(tags)), 'B') ||
          setweight(to_tsvector('english', description), 'C')
        ) stored
      )`);
    this.addSql("create index product_search on product using gin (search_vector)");
    this.addSql("create index product_name_trgm on product using gin (name gin_trgm_ops)");
    this.addSql("create index product_attributes on product using gin (attributes jsonb_path_ops)");
    this.addSql("create index product_category_status on product (category_id, status)");
    this.addSql("create index product_newest on product (status, id desc)");
    this.addSql("create index product_rating on product (status, rating_avg desc, id desc)");
    this.addSql("create index product_popular on product (status, rating_count desc, id desc)");
    this.addSql("create index product_brand on product (brand)");

    this.addSql(`
      create table variant (
        sku text primary key check (sku ~ '^[A-Z0-9][A-Z0-9._-]{0,63}$'),
        product_id uuid not null references product (id) on delete cascade,
        position integer not null,
        options jsonb not null default '{}' check (jsonb_typeof(options) = 'object'),
        prices jsonb not null default '{}' check (jsonb_typeof(prices) = 'object'),
        unique (product_id, position)
      )`);
    this.addSql("create index variant_product on variant (product_id)");

    // The lowest variant price per currency: what price filters, sorting and bands use.
    this.addSql(`
      create table product_price (
        product_id uuid not null references product (id) on delete cascade,
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        amount_minor bigint not null check (amount_minor > 0),
        primary key (product_id, currency)
      )`);
    this.addSql("create index product_price_order on product_price (currency, amount_minor, product_id)");

    // What inventory says about each SKU (OutOfStock / BackInStock), kept even for SKUs not in the catalog yet.
    this.addSql(`
      create table sku_stock (
        sku text primary key,
        in_stock boolean not null,
        updated_at timestamptz not null default now()
      )`);

    this.addSql(`
      create table review (
        id uuid primary key,
        product_id uuid not null references product (id) on delete cascade,
        user_id text not null check (length(user_id) between 1 and 200),
        rating smallint not null check (rating between 1 and 5),
        title text not null default '' check (length(title) <= 200),
        body text not null default '' check (length(body) <= 5000),
        verified_purchase boolean not null default false,
        created_at timestamptz not null default now(),
        constraint review_one_per_user_and_product unique (product_id, user_id)
      )`);
    this.addSql("create index review_product_newest on review (product_id, id desc)");
  }
}
