// Queries typed by the entities: MikroORM 7 derives a Kysely database type from `defineEntity`
// definitions (table names from `tableName`, columns from `fieldName` or the snake-cased property),
// and `em.getKysely()` runs on the EntityManager's transaction when it is in one.
import type { EntitySchemaWithMeta } from "@mikro-orm/core";
import type { EntityManager, InferKyselyDB } from "@mikro-orm/postgresql";
import { sql } from "kysely";

/** The tables `entities` describe, as a Kysely database type. */
export type TablesOf<E extends readonly EntitySchemaWithMeta[]> = InferKyselyDB<E[number]>;

/**
 * A Kysely query builder over the tables of `entities`, bound to `em` (its transaction, if any). Values
 * are converted by the entities' types, so rows are what the types say: without it an int8 or a
 * timestamptz comes back as text while the type says number or Date.
 */
export function typedQueries<E extends readonly EntitySchemaWithMeta[]>(em: EntityManager, _entities: E) {
  return em.getKysely<TablesOf<E>>({ convertValues: true });
}

/** Kysely's raw fragments, for what its builder does not spell (functions, casts, row comparisons). */
export { sql } from "kysely";

/** The statement's own clock (`clock_timestamp()`), as the services' `updated_at`/`closed_at` writes use. */
export const clockTimestamp = sql<Date>`clock_timestamp()`;

/** SQL text with `?` placeholders (as `query` takes it) as a Kysely fragment, e.g. the platform's outbox insert as a CTE. */
export function sqlText(text: string, params: readonly unknown[]) {
  const parts = text.split("?");
  if (parts.length !== params.length + 1) throw new Error(`sqlText: ${parts.length - 1} placeholders for ${params.length} values`);
  const joined = sql.join(
    parts.flatMap((part, i) => (i < params.length ? [sql.raw(part), sql.val(params[i])] : [sql.raw(part)])),
    sql.raw(""),
  );
  return sql<Record<string, unknown>>`${joined}`;
}
