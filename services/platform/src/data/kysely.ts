// Queries typed by the entities: MikroORM 7 derives a Kysely database type from `defineEntity`
// definitions (table names from `tableName`, columns from `fieldName` or the snake-cased property),
// and `em.getKysely()` runs on the EntityManager's transaction when it is in one.
import type { EntitySchemaWithMeta } from "@mikro-orm/core";
import type { EntityManager, InferKyselyDB } from "@mikro-orm/postgresql";

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
