// Stock levels and the admin side: receiving, adjusting with a reason (each a movement in the audit
// trail), low-stock thresholds, reads, and the idempotent seed.
// Lock order as in reservations.ts: stock_level row(s) first, then sku_stock row(s), sorted.
import { asDate, FailedPreconditionError, NotFoundError, placeholders, query, typedQueries, type Database, type EntityManager, type Row } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import { availabilityCrossed, changeAvailability } from "./availability-events.ts";
import { entities } from "./entities.ts";
import { toNumber } from "./sql.ts";
import { DEFAULT_LOCATION } from "./validation.ts";

export interface LevelView {
  sku: string;
  location: string;
  onHand: number;
  reserved: number;
  updatedAt: Date;
}

export interface SkuView {
  sku: string;
  known: boolean;
  onHand: number;
  reserved: number;
  available: number;
  lowStockThreshold: number;
}

export type MovementReason = "received" | "sold" | "count_correction" | "damaged" | "lost" | "returned" | "other";

export interface MovementView {
  id: string;
  sku: string;
  location: string;
  delta: number;
  reason: MovementReason;
  note: string;
  actor: string;
  onHandAfter: number;
  createdAt: Date;
}

const levelColumns = "sku, location, on_hand, reserved, updated_at";
// The reads below are written against the entities' types (typedQueries); the writes stay SQL for
// their row locks, upserts and guards in the WHERE clause.
const tables = (em: EntityManager) => typedQueries(em, entities);
const levelSelection = ["sku", "location", "on_hand as onHand", "reserved", "updated_at as updatedAt"] as const;
const movementSelection = ["id", "sku", "location", "delta", "reason", "note", "actor", "on_hand_after as onHandAfter", "created_at as createdAt"] as const;
const movementColumns = "id, sku, location, delta, reason, note, actor, on_hand_after, created_at";

const toLevel = (row: Row): LevelView => ({
  sku: String(row.sku),
  location: String(row.location),
  onHand: toNumber(row.on_hand),
  reserved: toNumber(row.reserved),
  updatedAt: asDate(row.updated_at),
});

const toMovement = (row: Row): MovementView => ({
  id: String(row.id),
  sku: String(row.sku),
  location: String(row.location),
  delta: toNumber(row.delta),
  reason: row.reason as MovementReason,
  note: String(row.note),
  actor: String(row.actor),
  onHandAfter: toNumber(row.on_hand_after),
  createdAt: asDate(row.created_at),
});

async function recordMovement(
  em: EntityManager,
  movement: Omit<MovementView, "id" | "createdAt">,
): Promise<MovementView> {
  const [row] = await query(
    em,
    `insert into stock_movement (id, sku, location, delta, reason, note, actor, on_hand_after) values (?, ?, ?, ?, ?, ?, ?, ?)
     returning ${movementColumns}`,
    [uuidv7(), movement.sku, movement.location, movement.delta, movement.reason, movement.note, movement.actor, movement.onHandAfter],
  );
  return toMovement(row!);
}

export interface StockChange {
  level: LevelView;
  movement: MovementView;
}

/** Adds received units at a location, creating the SKU and location when new. */
export function receive(
  database: Database,
  input: { sku: string; location: string; quantity: number; note: string; actor: string },
): Promise<StockChange> {
  return database.transaction(async (em) => {
    // DO NOTHING takes no row lock, so the lock order (stock_level, then sku_stock) still holds.
    await query(em, "insert into sku_stock (sku) values (?) on conflict (sku) do nothing", [input.sku]);
    const [row] = await query(
      em,
      `insert into stock_level (sku, location, on_hand) values (?, ?, ?)
       on conflict (sku, location) do update set on_hand = stock_level.on_hand + excluded.on_hand, updated_at = clock_timestamp()
       returning ${levelColumns}`,
      [input.sku, input.location, input.quantity],
    );
    const level = toLevel(row!);
    await changeAvailability(em, new Map([[input.sku, input.quantity]]));
    const movement = await recordMovement(em, { ...input, delta: input.quantity, reason: "received", onHandAfter: level.onHand });
    return { level, movement };
  });
}

/** Changes on hand by a signed delta with a reason; on hand may not fall below what is reserved. */
export function adjust(
  database: Database,
  input: { sku: string; location: string; delta: number; reason: MovementReason; note: string; actor: string },
): Promise<StockChange> {
  return database.transaction(async (em) => {
    const [row] = await query(
      em,
      `update stock_level set on_hand = on_hand + ?, updated_at = clock_timestamp()
       where sku = ? and location = ? and on_hand + ? >= reserved returning ${levelColumns}`,
      [input.delta, input.sku, input.location, input.delta],
    );
    if (!row) {
      const [current] = await query(em, "select on_hand, reserved from stock_level where sku = ? and location = ?", [input.sku, input.location]);
      if (!current) throw new NotFoundError(`no stock of ${input.sku} is kept at ${input.location}`, { reason: "STOCK_NOT_FOUND" });
      throw new FailedPreconditionError(
        `adjusting ${input.sku} at ${input.location} by ${input.delta} would leave ${toNumber(current.on_hand) + input.delta} on hand with ${toNumber(current.reserved)} reserved`,
        { reason: "INSUFFICIENT_STOCK" },
      );
    }
    const level = toLevel(row);
    await changeAvailability(em, new Map([[input.sku, input.delta]]));
    const movement = await recordMovement(em, { ...input, onHandAfter: level.onHand });
    return { level, movement };
  });
}

/** Sets the low-stock threshold (creating the SKU's totals when new); LowStock when it now applies. */
export function setLowStockThreshold(database: Database, sku: string, threshold: number): Promise<SkuView> {
  return database.transaction(async (em) => {
    const [before] = await query(em, "select low_stock_threshold from sku_stock where sku = ?", [sku]);
    const [row] = await query(
      em,
      `insert into sku_stock (sku, low_stock_threshold) values (?, ?)
       on conflict (sku) do update set low_stock_threshold = excluded.low_stock_threshold, updated_at = clock_timestamp()
       returning available`,
      [sku, threshold],
    );
    const available = toNumber(row!.available);
    const previous = before ? toNumber(before.low_stock_threshold) : 0;
    // Raising the threshold over the current availability makes the SKU low now.
    if (available > 0 && available <= threshold && !(available <= previous)) {
      await availabilityCrossed(em, sku, threshold + 1, available, threshold);
    }
    return (await skuTotals(em, [sku]))[0]!;
  });
}

async function skuTotals(em: EntityManager, skus: string[]): Promise<SkuView[]> {
  const rows = await query(
    em,
    `select s.sku, s.available, s.low_stock_threshold,
            coalesce(sum(l.on_hand), 0) as on_hand, coalesce(sum(l.reserved), 0) as reserved
     from sku_stock s left join stock_level l on l.sku = s.sku
     where s.sku in (${placeholders(skus.length)}) group by s.sku`,
    skus,
  );
  const bySku = new Map(rows.map((r) => [String(r.sku), r]));
  return skus.map((sku) => {
    const row = bySku.get(sku);
    if (!row) return { sku, known: false, onHand: 0, reserved: 0, available: 0, lowStockThreshold: 0 };
    return {
      sku,
      known: true,
      onHand: toNumber(row.on_hand),
      reserved: toNumber(row.reserved),
      available: toNumber(row.available),
      lowStockThreshold: toNumber(row.low_stock_threshold),
    };
  });
}

export const batchTotals = (database: Database, skus: string[]) => skuTotals(database.em(), skus);

export async function stockOf(database: Database, sku: string): Promise<{ stock: SkuView; levels: LevelView[] }> {
  const em = database.em();
  const [stock] = await skuTotals(em, [sku]);
  if (!stock?.known) throw new NotFoundError(`the inventory does not know ${sku}`, { reason: "SKU_NOT_FOUND" });
  const levels = await tables(em).selectFrom("stock_level").select(levelSelection).where("sku", "=", sku).orderBy("location").execute();
  return { stock, levels };
}

export async function listLevels(
  database: Database,
  options: { limit: number; after?: { sku: string; location: string }; location?: string },
): Promise<{ levels: LevelView[]; more: boolean }> {
  const { after, location } = options;
  const rows = await tables(database.em())
    .selectFrom("stock_level")
    .select(levelSelection)
    .$if(after !== undefined, (q) => q.where((eb) => eb(eb.refTuple("sku", "location"), ">", eb.tuple(after!.sku, after!.location))))
    .$if(location !== undefined, (q) => q.where("location", "=", location!))
    .orderBy("sku")
    .orderBy("location")
    .limit(options.limit + 1)
    .execute();
  return { levels: rows.slice(0, options.limit), more: rows.length > options.limit };
}

export async function listMovements(
  database: Database,
  options: { sku: string; limit: number; before?: string },
): Promise<{ movements: MovementView[]; more: boolean }> {
  const { before } = options;
  const rows = await tables(database.em())
    .selectFrom("stock_movement")
    .select(movementSelection)
    .where("sku", "=", options.sku)
    .$if(before !== undefined, (q) => q.where("id", "<", before!))
    .orderBy("id", "desc")
    .limit(options.limit + 1)
    .execute();
  const movements = rows.slice(0, options.limit).map((row) => ({ ...row, reason: row.reason as MovementReason }));
  return { movements, more: rows.length > options.limit };
}

export interface SeedItem {
  sku: string;
  location?: string;
  onHand: number;
  lowStockThreshold?: number;
}

/**
 * Sets stock levels to exactly the given figures (idempotent: a re-run changes nothing), recording a
 * count correction for every level that changes and publishing availability crossings through the
 * outbox. For the seed tool, on a database opened by createDatabase on bazaar_inventory.
 */
export async function seedStock(database: Database, items: SeedItem[]): Promise<void> {
  const batchSize = 200;
  for (let start = 0; start < items.length; start += batchSize) {
    const batch = items.slice(start, start + batchSize).map((item) => ({ ...item, location: item.location ?? DEFAULT_LOCATION }));
    batch.sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
    await database.transaction(async (em) => {
      const deltas = new Map<string, number>();
      for (const item of batch) {
        if (!Number.isSafeInteger(item.onHand) || item.onHand < 0) throw new RangeError(`seedStock: onHand of ${item.sku} must be a non-negative integer`);
        await query(em, "insert into sku_stock (sku) values (?) on conflict (sku) do nothing", [item.sku]);
        const [current] = await query(em, "select on_hand from stock_level where sku = ? and location = ? for update", [item.sku, item.location]);
        const delta = item.onHand - (current ? toNumber(current.on_hand) : 0);
        if (!current) {
          await query(em, "insert into stock_level (sku, location, on_hand) values (?, ?, ?)", [item.sku, item.location, item.onHand]);
        } else if (delta !== 0) {
          await query(em, "update stock_level set on_hand = ?, updated_at = clock_timestamp() where sku = ? and location = ?", [item.onHand, item.sku, item.location]);
        }
        if (delta !== 0) {
          await recordMovement(em, { sku: item.sku, location: item.location, delta, reason: "count_correction", note: "seed", actor: "seed", onHandAfter: item.onHand });
        }
        deltas.set(item.sku, (deltas.get(item.sku) ?? 0) + delta);
      }
      await changeAvailability(em, deltas);
      for (const item of batch) {
        if (item.lowStockThreshold !== undefined) {
          await query(em, "update sku_stock set low_stock_threshold = ? where sku = ? and low_stock_threshold <> ?", [
            item.lowStockThreshold,
            item.sku,
            item.lowStockThreshold,
          ]);
        }
      }
    });
  }
}
