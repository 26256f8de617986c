// Shipping methods of zones: what is offered, by whom, how fast and at what rates per currency.
import {
  ConflictError,
  InvalidArgumentError,
  isUniqueViolation,
  isUuid,
  keysetPage,
  NotFoundError,
  AlreadyExistsError,
  type Database,
  type EntityManager,
  type Keyset,
  type Page,
  type PageCursor,
} from "@bazaar/platform";
import { sql } from "kysely";
import { uuidv7 } from "uuidv7";
import type { Rate } from "./rates.ts";
import type { MethodFields } from "./validation.ts";
import { etagOf, tables } from "./zones.ts";

export interface MethodView extends MethodFields {
  id: string;
  zoneId: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Methods by zone, then code (unique within a zone). */
export const METHODS_ORDER: Keyset = { columns: ["zone_id", "code"], direction: "asc", valid: ([zone]) => isUuid(zone!) };

const methodSelection = [
  "id",
  "zone_id as zoneId",
  "code",
  "name",
  "carrier",
  "service_level as serviceLevel",
  "min_days as minDays",
  "max_days as maxDays",
  "active",
  "rates",
  "version",
  "created_at as createdAt",
  "updated_at as updatedAt",
] as const;

const toMethod = <R extends { rates: unknown }>(row: R): Omit<R, "rates"> & { rates: Rate[] } => ({
  ...row,
  rates: (typeof row.rates === "string" ? JSON.parse(row.rates) : row.rates) as Rate[],
});

async function findMethod(em: EntityManager, id: string, lock = false): Promise<MethodView | undefined> {
  const row = await tables(em).selectFrom("shipping_method").select(methodSelection).where("id", "=", id).$if(lock, (q) => q.forUpdate()).executeTakeFirst();
  return row ? (toMethod(row) as MethodView) : undefined;
}

export async function listMethods(database: Database, page: PageCursor, zoneId: string | undefined): Promise<Page<MethodView>> {
  const select = tables(database.em())
    .selectFrom("shipping_method")
    .select(methodSelection)
    .$if(zoneId !== undefined, (q) => q.where("zone_id", "=", zoneId!));
  const { rows, nextPageToken } = await keysetPage(select, page, (row) => [row.zoneId, row.code]);
  return { rows: rows.map((row) => toMethod(row) as MethodView), nextPageToken };
}

const codeTaken = (code: string) => new AlreadyExistsError(`the zone already has a method "${code}"`, { reason: "METHOD_CODE_TAKEN" });

export function createMethod(database: Database, input: MethodFields & { zoneId: string }): Promise<MethodView> {
  return database.transaction(async (em) => {
    const zone = await tables(em).selectFrom("shipping_zone").select("id").where("id", "=", input.zoneId).forShare().executeTakeFirst();
    if (!zone) throw new NotFoundError(`no shipping zone ${input.zoneId}`, { reason: "ZONE_NOT_FOUND" });
    const id = uuidv7();
    try {
      await tables(em)
        .insertInto("shipping_method")
        .values({
          id,
          zone_id: input.zoneId,
          code: input.code,
          name: input.name,
          carrier: input.carrier,
          service_level: input.serviceLevel,
          min_days: input.minDays,
          max_days: input.maxDays,
          active: input.active,
          rates: input.rates,
        })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error, "shipping_method_zone_code_key")) throw codeTaken(input.code);
      throw error;
    }
    return (await findMethod(em, id))!;
  });
}

export type MethodPatch = Partial<Omit<MethodFields, "code">>;

export function updateMethod(database: Database, input: { id: string; etag: string; patch: MethodPatch }): Promise<MethodView> {
  return database.transaction(async (em) => {
    const current = await findMethod(em, input.id, true);
    if (!current) throw new NotFoundError(`no shipping method ${input.id}`, { reason: "METHOD_NOT_FOUND" });
    if (input.etag !== "" && input.etag !== etagOf(current.version)) throw new ConflictError("the method changed since it was read (stale etag)", { reason: "STALE_ETAG" });
    const next = { ...current, ...input.patch };
    // One end of the estimate may change alone: it is checked against the stored other end.
    if (next.minDays > next.maxDays) {
      const field = input.patch.minDays !== undefined ? "method.min_days" : "method.max_days";
      throw new InvalidArgumentError({ field, description: `the estimate would be ${next.minDays}–${next.maxDays} days: min_days must not exceed max_days` });
    }
    await tables(em)
      .updateTable("shipping_method")
      .set((eb) => ({
        name: next.name,
        carrier: next.carrier,
        service_level: next.serviceLevel,
        min_days: next.minDays,
        max_days: next.maxDays,
        active: next.active,
        rates: next.rates,
        version: eb("version", "+", 1),
        updated_at: sql`clock_timestamp()`,
      }))
      .where("id", "=", input.id)
      .execute();
    return (await findMethod(em, input.id))!;
  });
}
