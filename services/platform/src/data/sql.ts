// Raw SQL, once for every service: where PostgreSQL features need it (row locks, CTEs, full-text
// search), through these helpers rather than each service's own copies.
import type { EntityManager } from "@mikro-orm/postgresql";

export type Row = Record<string, unknown>;

/** Runs `text` (`?` placeholders) in `em`'s transaction, or on its own, and returns the rows. */
export function query<T extends object = Row>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<T[]> {
  return em.execute(text, [...params], "all") as Promise<T[]>;
}

/** "?, ?, ?" for a list of `n` values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => "?").join(", ");

/**
 * `values` as one PostgreSQL array literal, for a `?::text[]` / `?::uuid[]` parameter: MikroORM's
 * execute() expands a JS array into a list of placeholders, so an array travels as one literal. Every
 * element is quoted, with `\` and `"` escaped, so commas, braces, quotes and the word NULL stay text.
 */
export function pgArray(values: Iterable<string>): string {
  return `{${Array.from(values, (v) => `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`).join(",")}}`;
}

/** A timestamp column as a Date: MikroORM's execute() may hand a timestamptz back as text. */
export function asDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** The SQLSTATE and constraint of a PostgreSQL error, found on MikroORM's wrapping (cause / previous chain). */
export function postgresError(error: unknown): { code: string; constraint?: string } | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    const candidate = e as { code?: unknown; constraint?: unknown; cause?: unknown; previous?: unknown };
    if (typeof candidate.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return { code: candidate.code, constraint: typeof candidate.constraint === "string" ? candidate.constraint : undefined };
    }
    e = candidate.cause ?? candidate.previous;
  }
  return undefined;
}

/** Whether `error` is a unique violation (23505) of the constraint or unique index named `constraint`. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pg = postgresError(error);
  return pg?.code === "23505" && pg.constraint === constraint;
}

/** Whether `error` is a foreign-key violation (23503), of `constraint` when one is named. */
export function isForeignKeyViolation(error: unknown, constraint?: string): boolean {
  const pg = postgresError(error);
  return pg?.code === "23503" && (constraint === undefined || pg.constraint === constraint);
}
