// Zones and their areas. The area table's primary key (country, region, prefix) makes an ambiguous
// overlap impossible whatever runs concurrently; an insert that meets it is refused naming the area.
import {
  ConflictError,
  InvalidArgumentError,
  keysetPage,
  NotFoundError,
  typedQueries,
  type Database,
  type EntityManager,
  type Keyset,
  type Page,
  type PageCursor,
} from "@bazaar/platform";
import { sql } from "kysely";
import { uuidv7 } from "uuidv7";
import { shippingEntities } from "./entities.ts";
import type { Area } from "./zone-match.ts";

export const tables = (em: EntityManager) => typedQueries(em, shippingEntities);

export interface ZoneView {
  id: string;
  name: string;
  areas: Area[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const etagOf = (version: number) => `"${version}"`;

/** Zones by name, then id. */
export const ZONES_ORDER: Keyset = { columns: ["name", "id"], direction: "asc" };

async function areasOf(em: EntityManager, zoneIds: readonly string[]): Promise<Map<string, Area[]>> {
  const byZone = new Map<string, Area[]>(zoneIds.map((id) => [id, []]));
  if (zoneIds.length === 0) return byZone;
  const rows = await tables(em)
    .selectFrom("shipping_zone_area")
    .select(["zone_id", "country_code", "region", "postal_prefix"])
    .where("zone_id", "in", zoneIds)
    .orderBy("country_code")
    .orderBy("region")
    .orderBy("postal_prefix")
    .execute();
  for (const row of rows) byZone.get(row.zone_id)?.push({ countryCode: row.country_code, region: row.region, postalPrefix: row.postal_prefix });
  return byZone;
}

const zoneSelection = ["id", "name", "version", "created_at as createdAt", "updated_at as updatedAt"] as const;

async function findZone(em: EntityManager, id: string, lock = false): Promise<ZoneView | undefined> {
  const row = await tables(em)
    .selectFrom("shipping_zone")
    .select(zoneSelection)
    .where("id", "=", id)
    .$if(lock, (q) => q.forUpdate())
    .executeTakeFirst();
  if (!row) return undefined;
  return { ...row, areas: (await areasOf(em, [id])).get(id)! };
}

export async function getZone(database: Database, id: string): Promise<ZoneView> {
  const zone = await findZone(database.em(), id);
  if (!zone) throw new NotFoundError(`no shipping zone ${id}`, { reason: "ZONE_NOT_FOUND" });
  return zone;
}

export async function listZones(database: Database, page: PageCursor): Promise<Page<ZoneView>> {
  const em = database.em();
  const { rows, nextPageToken } = await keysetPage(tables(em).selectFrom("shipping_zone").select(zoneSelection), page);
  const areas = await areasOf(em, rows.map((row) => row.id));
  return { rows: rows.map((row) => ({ ...row, areas: areas.get(row.id)! })), nextPageToken };
}

/**
 * Adds the areas to a zone. An area already in a zone (this one or another) is refused as
 * INVALID_ARGUMENT naming `field[i]` and the zone holding it; the primary key decides under concurrency.
 */
async function insertAreas(em: EntityManager, zoneId: string, areas: readonly Area[], field: string): Promise<void> {
  const inserted = await tables(em)
    .insertInto("shipping_zone_area")
    .values(areas.map((area) => ({ zone_id: zoneId, country_code: area.countryCode, region: area.region, postal_prefix: area.postalPrefix })))
    .onConflict((oc) => oc.columns(["country_code", "region", "postal_prefix"]).doNothing())
    .returning(["country_code", "region", "postal_prefix"])
    .execute();
  if (inserted.length === areas.length) return;
  const taken = new Set(inserted.map((row) => `${row.country_code}/${row.region}/${row.postal_prefix}`));
  const refused = areas.flatMap((area, i) => (taken.has(`${area.countryCode}/${area.region}/${area.postalPrefix}`) ? [] : [{ area, i }]));
  const owners = await tables(em)
    .selectFrom("shipping_zone_area as a")
    .innerJoin("shipping_zone as z", "z.id", "a.zone_id")
    .select(["a.country_code", "a.region", "a.postal_prefix", "z.id", "z.name"])
    .where(sql<boolean>`(a.country_code, a.region, a.postal_prefix) in (${sql.join(refused.map(({ area }) => sql`(${area.countryCode}, ${area.region}, ${area.postalPrefix})`))})`)
    .execute();
  const ownerOf = new Map(owners.map((row) => [`${row.country_code}/${row.region}/${row.postal_prefix}`, row]));
  throw new InvalidArgumentError(
    refused.map(({ area, i }) => {
      const owner = ownerOf.get(`${area.countryCode}/${area.region}/${area.postalPrefix}`);
      return {
        field: `${field}[${i}]`,
        description: `${describeArea(area)} is already in zone "${owner?.name ?? "?"}" (${owner?.id ?? "?"}): a destination there would match two zones equally`,
      };
    }),
    { reason: "ZONE_AREA_TAKEN" },
  );
}

export const describeArea = (area: Area): string =>
  [area.countryCode, area.region && `region ${area.region}`, area.postalPrefix && `postal codes ${area.postalPrefix}…`].filter(Boolean).join(", ");

export function createZone(database: Database, input: { name: string; areas: Area[] }): Promise<ZoneView> {
  return database.transaction(async (em) => {
    const id = uuidv7();
    await tables(em).insertInto("shipping_zone").values({ id, name: input.name }).execute();
    await insertAreas(em, id, input.areas, "zone.areas");
    return (await findZone(em, id))!;
  });
}

async function lockCurrent(em: EntityManager, id: string, etag: string): Promise<ZoneView> {
  const current = await findZone(em, id, true);
  if (!current) throw new NotFoundError(`no shipping zone ${id}`, { reason: "ZONE_NOT_FOUND" });
  if (etag !== "" && etag !== etagOf(current.version)) throw new ConflictError("the zone changed since it was read (stale etag)", { reason: "STALE_ETAG" });
  return current;
}

export function updateZone(database: Database, input: { id: string; etag: string; name?: string; areas?: Area[] }): Promise<ZoneView> {
  return database.transaction(async (em) => {
    await lockCurrent(em, input.id, input.etag);
    if (input.areas) {
      await tables(em).deleteFrom("shipping_zone_area").where("zone_id", "=", input.id).execute();
      await insertAreas(em, input.id, input.areas, "zone.areas");
    }
    await tables(em)
      .updateTable("shipping_zone")
      .set((eb) => ({ ...(input.name !== undefined ? { name: input.name } : {}), version: eb("version", "+", 1), updated_at: sql`clock_timestamp()` }))
      .where("id", "=", input.id)
      .execute();
    return (await findZone(em, input.id))!;
  });
}

export function deleteZone(database: Database, input: { id: string; etag: string }): Promise<void> {
  return database.transaction(async (em) => {
    await lockCurrent(em, input.id, input.etag);
    await tables(em).deleteFrom("shipping_zone").where("id", "=", input.id).execute();
  });
}
