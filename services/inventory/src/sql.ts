// Small helpers for the raw SQL the inventory's row-locking paths use.
import type { EntityManager } from "@bazaar/platform";

export type Row = Record<string, unknown>;

/** Runs a statement in `em`'s transaction (or on its own) and returns the rows. */
export function query<T extends Row = Row>(em: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return em.execute(sql, params, "all") as Promise<T[]>;
}

/** "?, ?, ?" for a list of n values. */
export const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/** The PostgreSQL SQLSTATE of a (possibly wrapped) driver error. */
export function pgCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown; previous?: unknown }).cause ?? (e as { previous?: unknown }).previous;
  }
  return undefined;
}

export const toNumber = (value: unknown): number => (typeof value === "number" ? value : Number(value));
export const toDate = (value: unknown): Date => (value instanceof Date ? value : new Date(String(value)));
