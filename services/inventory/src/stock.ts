// Stock levels and the admin side: receiving, adjusting with a reason (each a movement in the audit
// trail), low-stock thresholds, reads, and the idempotent seed.
// Lock order as in reservations.ts: stock_level row(s) first, then sku_stock row(s), sorted.
import {
  AlreadyExistsError,
  clockTimestamp,
  FailedPreconditionError,
  isUuid,
  keysetPage,
  NotFoundError,
  sql,
  typedQueries,
  type Database,
  type EntityManager,
  type Keyset,
  type Page,
  type PageCursor,
} from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import { availabilityCrossed, changeAvailability } from "./availability-events.ts";
import { inventoryEntities } from "./entities.ts";
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

// Queries are written against the entities' types (typedQueries); guards stay in the WHERE clause so
// that PostgreSQL re-checks them on the latest row version.
const tables = (em: EntityManager) => typedQueries(em, inventoryEntities);
const levelSelection = ["sku", "location", "on_hand as onHand", "reserved", "updated_at as updatedAt"] as const;
const movementSelection = ["id", "sku", "location", "delta", "reason", "note", "actor", "on_hand_after as onHandAfter", "created_at as createdAt"] as const;

async function recordMovement(
  em: EntityManager,
  movement: Omit<MovementView, "id" | "createdAt"> & { idempotencyKey?: string },
): Promise<MovementView> {
  const row = await tables(em)
    .insertInto("stock_movement")
    .values({
      id: uuidv7(),
      sku: movement.sku,
      location: movement.location,
      delta: movement.delta,
      reason: movement.reason,
      note: movement.note,
      actor: movement.actor,
      on_hand_after: movement.onHandAfter,
      idempotency_key: movement.idempotencyKey ?? null,
    })
    .returning(movementSelection)
    .executeTakeFirstOrThrow();
  return { ...row, reason: row.reason as MovementReason };
}

export interface StockChange {
  level: LevelView;
  movement: MovementView;
}

/** Creates a SKU's totals row when new. DO NOTHING takes no row lock, so the lock order still holds. */
async function ensureSku(em: EntityManager, sku: string): Promise<void> {
  await tables(em).insertInto("sku_stock").values({ sku }).onConflict((oc) => oc.column("sku").doNothing()).execute();
}

/** Adds received units at a location, creating the SKU and location when new. */
export function receive(
  database: Database,
  input: { sku: string; location: string; quantity: number; note: string; actor: string },
): Promise<StockChange> {
  return database.transaction(async (em) => {
    await ensureSku(em, input.sku);
    const level = await tables(em)
      .insertInto("stock_level")
      .values({ sku: input.sku, location: input.location, on_hand: input.quantity })
      .onConflict((oc) =>
        oc.columns(["sku", "location"]).doUpdateSet((eb) => ({ on_hand: eb("stock_level.on_hand", "+", eb.ref("excluded.on_hand")), updated_at: clockTimestamp })),
      )
      .returning(levelSelection)
      .executeTakeFirstOrThrow();
    await changeAvailability(em, new Map([[input.sku, input.quantity]]));
    const movement = await recordMovement(em, { ...input, delta: input.quantity, reason: "received", onHandAfter: level.onHand });
    return { level, movement };
  });
}

/**
 * Changes on hand by a signed delta with a reason; on hand may not fall below what is reserved. With an
 * idempotency key, an adjustment already made under it is answered as it was (the level's row lock
 * orders concurrent repeats; a unique index backs it), and the key on another adjustment is refused.
 */
export function adjust(
  database: Database,
  input: { sku: string; location: string; delta: number; reason: MovementReason; note: string; actor: string; idempotencyKey?: string },
): Promise<StockChange> {
  return database.transaction(async (em) => {
    if (input.idempotencyKey) {
      const current = await tables(em).selectFrom("stock_level").select(levelSelection).where("sku", "=", input.sku).where("location", "=", input.location).forUpdate().executeTakeFirst();
      const prior = await tables(em).selectFrom("stock_movement").select(movementSelection).where("idempotency_key", "=", input.idempotencyKey).executeTakeFirst();
      if (prior) {
        if (!current || prior.sku !== input.sku || prior.location !== input.location || prior.delta !== input.delta || prior.reason !== input.reason) {
          throw new AlreadyExistsError(`the idempotency key ${input.idempotencyKey} was used for another adjustment`, { reason: "IDEMPOTENCY_KEY_REUSED" });
        }
        return { level: current, movement: { ...prior, reason: prior.reason as MovementReason } };
      }
    }
    const level = await tables(em)
      .updateTable("stock_level")
      .set((eb) => ({ on_hand: eb("on_hand", "+", input.delta), updated_at: clockTimestamp }))
      .where("sku", "=", input.sku)
      .where("location", "=", input.location)
      .where((eb) => eb(eb("on_hand", "+", input.delta), ">=", eb.ref("reserved")))
      .returning(levelSelection)
      .executeTakeFirst();
    if (!level) {
      const current = await tables(em)
        .selectFrom("stock_level")
        .select(["on_hand", "reserved"])
        .where("sku", "=", input.sku)
        .where("location", "=", input.location)
        .executeTakeFirst();
      if (!current) throw new NotFoundError(`no stock of ${input.sku} is kept at ${input.location}`, { reason: "STOCK_NOT_FOUND" });
      throw new FailedPreconditionError(
        `adjusting ${input.sku} at ${input.location} by ${input.delta} would leave ${current.on_hand + input.delta} on hand with ${current.reserved} reserved`,
        { reason: "INSUFFICIENT_STOCK" },
      );
    }
    await changeAvailability(em, new Map([[input.sku, input.delta]]));
    const movement = await recordMovement(em, { ...input, onHandAfter: level.onHand });
    return { level, movement };
  });
}

/** Sets the low-stock threshold (creating the SKU's totals when new); LowStock when it now applies. */
export function setLowStockThreshold(database: Database, sku: string, threshold: number): Promise<SkuView> {
  return database.transaction(async (em) => {
    const before = await tables(em).selectFrom("sku_stock").select("low_stock_threshold").where("sku", "=", sku).executeTakeFirst();
    const { available } = await tables(em)
      .insertInto("sku_stock")
      .values({ sku, low_stock_threshold: threshold })
      .onConflict((oc) => oc.column("sku").doUpdateSet((eb) => ({ low_stock_threshold: eb.ref("excluded.low_stock_threshold"), updated_at: clockTimestamp })))
      .returning("available")
      .executeTakeFirstOrThrow();
    const previous = before?.low_stock_threshold ?? 0;
    // Raising the threshold over the current availability makes the SKU low now.
    if (available > 0 && available <= threshold && !(available <= previous)) {
      await availabilityCrossed(em, sku, threshold + 1, available, threshold);
    }
    return (await skuTotals(em, [sku]))[0]!;
  });
}

async function skuTotals(em: EntityManager, skus: string[]): Promise<SkuView[]> {
  if (skus.length === 0) return [];
  const rows = await tables(em)
    .selectFrom("sku_stock as s")
    .leftJoin("stock_level as l", "l.sku", "s.sku")
    .select([
      "s.sku",
      "s.available",
      "s.low_stock_threshold as lowStockThreshold",
      // sum() of a bigint is numeric, which the driver hands back as text.
      sql<string>`coalesce(sum(l.on_hand), 0)`.as("onHand"),
      sql<string>`coalesce(sum(l.reserved), 0)`.as("reserved"),
    ])
    .where("s.sku", "in", skus)
    .groupBy("s.sku")
    .execute();
  const bySku = new Map(rows.map((row) => [row.sku, row]));
  return skus.map((sku) => {
    const row = bySku.get(sku);
    if (!row) return { sku, known: false, onHand: 0, reserved: 0, available: 0, lowStockThreshold: 0 };
    return { sku, known: true, onHand: Number(row.onHand), reserved: Number(row.reserved), available: row.available, lowStockThreshold: row.lowStockThreshold };
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

/** Stock levels by SKU then location. */
export const LEVELS_ORDER: Keyset = { columns: ["sku", "location"], direction: "asc" };

export function listLevels(database: Database, page: PageCursor, location: string | undefined): Promise<Page<LevelView>> {
  const select = tables(database.em())
    .selectFrom("stock_level")
    .select(levelSelection)
    .$if(location !== undefined, (q) => q.where("location", "=", location!));
  return keysetPage(select, page);
}

/** A SKU's movements, newest first (ids are UUIDv7). */
export const MOVEMENTS_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };

export async function listMovements(database: Database, sku: string, page: PageCursor): Promise<Page<MovementView>> {
  const select = tables(database.em()).selectFrom("stock_movement").select(movementSelection).where("sku", "=", sku);
  const { rows, nextPageToken } = await keysetPage(select, page);
  return { rows: rows.map((row) => ({ ...row, reason: row.reason as MovementReason })), nextPageToken };
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
        await ensureSku(em, item.sku);
        const current = await tables(em)
          .selectFrom("stock_level")
          .select("on_hand")
          .where("sku", "=", item.sku)
          .where("location", "=", item.location)
          .forUpdate()
          .executeTakeFirst();
        const delta = item.onHand - (current?.on_hand ?? 0);
        if (!current) {
          await tables(em).insertInto("stock_level").values({ sku: item.sku, location: item.location, on_hand: item.onHand }).execute();
        } else if (delta !== 0) {
          await tables(em)
            .updateTable("stock_level")
            .set({ on_hand: item.onHand, updated_at: clockTimestamp })
            .where("sku", "=", item.sku)
            .where("location", "=", item.location)
            .execute();
        }
        if (delta !== 0) {
          await recordMovement(em, { sku: item.sku, location: item.location, delta, reason: "count_correction", note: "seed", actor: "seed", onHandAfter: item.onHand });
        }
        deltas.set(item.sku, (deltas.get(item.sku) ?? 0) + delta);
      }
      await changeAvailability(em, deltas);
      for (const item of batch) {
        if (item.lowStockThreshold !== undefined) {
          await tables(em)
            .updateTable("sku_stock")
            .set({ low_stock_threshold: item.lowStockThreshold })
            .where("sku", "=", item.sku)
            .where("low_stock_threshold", "<>", item.lowStockThreshold)
            .execute();
        }
      }
    });
  }
}
