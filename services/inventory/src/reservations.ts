// Reservations: all-or-nothing holds on stock, idempotent per reference, committed into sales or
// released (by the caller, or by the sweeper once expired).
//
// Lock order, followed by every writer so that no two transactions wait on each other in a cycle:
// reservation rows → stock_level rows sorted by (sku, location) → sku_stock rows sorted by sku.
// Holds are single conditional UPDATEs (`on_hand - reserved >= quantity`), re-checked by PostgreSQL
// on the latest row version, so concurrent reservations never oversell; the CHECK constraints are
// the backstop.
import {
  AlreadyExistsError,
  clockTimestamp,
  FailedPreconditionError,
  InvalidArgumentError,
  isForeignKeyViolation,
  isUniqueViolation,
  NotFoundError,
  publish,
  sql,
  typedQueries,
  type Database,
  type EntityManager,
} from "@bazaar/platform";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ReleaseReason,
  StockCommittedSchema,
  StockReleasedSchema,
  StockReservedSchema,
  StockRestockedSchema,
} from "@bazaar/contracts/bazaar/inventory/v1/events_pb";
import { uuidv7 } from "uuidv7";
import { availabilityCrossed, changeAvailability } from "./availability-events.ts";
import { inventoryEntities } from "./entities.ts";

export interface Line {
  sku: string;
  location: string;
  quantity: number;
}

export type ReservationState = "active" | "committed" | "released" | "expired" | "restocked";

export interface ReservationView {
  id: string;
  reference: string;
  state: ReservationState;
  lines: Line[];
  createdAt: Date;
  expiresAt: Date;
  closedAt: Date | undefined;
}

const byStock = (a: { sku: string; location: string }, b: { sku: string; location: string }) =>
  a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : a.location < b.location ? -1 : a.location > b.location ? 1 : 0;

export const sortLines = (lines: Line[]) => [...lines].sort(byStock);

const eventLines = (lines: Line[]) => lines.map((l) => ({ sku: l.sku, location: l.location, quantity: BigInt(l.quantity) }));

const tables = (em: EntityManager) => typedQueries(em, inventoryEntities);
const reservationSelection = ["id", "reference", "state", "created_at as createdAt", "expires_at as expiresAt", "closed_at as closedAt"] as const;
/** A reservation row as `reservationSelection` reads it, typed by the entity. */
type ReservationRow = Awaited<ReturnType<ReturnType<typeof selectReservation>["executeTakeFirstOrThrow"]>>;

async function loadLines(em: EntityManager, ids: string[]): Promise<Map<string, Line[]>> {
  const result = new Map<string, Line[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return result;
  const rows = await tables(em)
    .selectFrom("reservation_line")
    .select(["reservation_id", "sku", "location", "quantity"])
    .where("reservation_id", "in", ids)
    .orderBy("sku")
    .orderBy("location")
    .execute();
  for (const { reservation_id, ...line } of rows) result.get(reservation_id)!.push(line);
  return result;
}

function toView(row: ReservationRow, lines: Line[]): ReservationView {
  return { ...row, state: row.state as ReservationState, lines, closedAt: row.closedAt ?? undefined };
}

async function view(em: EntityManager, row: ReservationRow): Promise<ReservationView> {
  return toView(row, (await loadLines(em, [row.id])).get(row.id)!);
}

const selectReservation = (em: EntityManager) => tables(em).selectFrom("reservation").select(reservationSelection);

export async function getReservation(database: Database, id: string): Promise<ReservationView> {
  const em = database.em();
  const row = await selectReservation(em).where("id", "=", id).executeTakeFirst();
  if (!row) throw new NotFoundError(`no reservation ${id}`, { reason: "RESERVATION_NOT_FOUND" });
  return view(em, row);
}

const sameLines = (a: Line[], b: Line[]) =>
  a.length === b.length && a.every((line, i) => byStock(line, b[i]!) === 0 && line.quantity === b[i]!.quantity);

async function existingFor(database: Database, reference: string, lines: Line[]): Promise<ReservationView | undefined> {
  const em = database.em();
  const row = await selectReservation(em).where("reference", "=", reference).executeTakeFirst();
  if (!row) return undefined;
  const existing = await view(em, row);
  if (!sameLines(existing.lines, lines)) {
    throw new AlreadyExistsError(`reference "${reference}" already has a reservation with different lines (${existing.id})`, {
      reason: "REFERENCE_IN_USE",
    });
  }
  return existing;
}

export interface ReserveInput {
  reference: string;
  /** Validated: positive quantities, at most one line per (sku, location). */
  lines: Line[];
  ttlMs: number;
}

/**
 * Holds every line or none. The same reference with the same lines returns the existing reservation;
 * with different lines, AlreadyExistsError. A line that cannot be held: FailedPreconditionError
 * OUT_OF_STOCK; an unknown SKU or location: InvalidArgumentError naming the line.
 */
export async function reserve(database: Database, input: ReserveInput): Promise<ReservationView> {
  const lines = sortLines(input.lines);
  // Optimistic: a new reference is the common case, so no lookup first; a repeat fails the unique
  // reference index and is answered from the stored reservation.
  try {
    return await database.transaction((em) => reserveIn(em, input.reference, lines, input.ttlMs));
  } catch (error) {
    // Another request with the same reference committed first: answer as a repeat would.
    if (isUniqueViolation(error, "reservation_reference_key")) {
      const winner = await existingFor(database, input.reference, lines);
      if (winner) return winner;
    }
    if (isForeignKeyViolation(error)) throw await unknownStock(database, input.lines, error);
    throw error;
  }
}

async function reserveIn(em: EntityManager, reference: string, lines: Line[], ttlMs: number): Promise<ReservationView> {
  const id = uuidv7();
  // One round trip for the reservation and its lines. The foreign key from the lines to stock_level
  // rejects unknown SKUs and locations (it takes only a key-share lock, which holds no one up).
  const row = await tables(em)
    .with("made", (db) =>
      db
        .insertInto("reservation")
        .values({ id, reference, state: "active", expires_at: sql<Date>`clock_timestamp() + make_interval(secs => ${ttlMs / 1000})` })
        .returning(reservationSelection),
    )
    .with("held", (db) =>
      db.insertInto("reservation_line").values(lines.map((l) => ({ reservation_id: id, sku: l.sku, location: l.location, quantity: l.quantity }))),
    )
    .selectFrom("made")
    .selectAll()
    .executeTakeFirstOrThrow();
  const reservation = toView(row, lines);
  await publish(
    em,
    StockReservedSchema,
    create(StockReservedSchema, { reservationId: id, reference, lines: eventLines(lines), expiresAt: timestampFromDate(reservation.expiresAt) }),
  );

  // The row locks start here and last until commit: as few statements as possible from now on.
  if (lines.length === 1) {
    const [line] = lines as [Line];
    const totals = await tables(em)
      .with("held", (db) => holdLine(db, line).returning("sku"))
      // No alias on the updated table: MikroORM converts RETURNING values only for unaliased tables.
      .updateTable("sku_stock")
      .from("held")
      .set((eb) => ({ available: eb("sku_stock.available", "-", line.quantity), updated_at: clockTimestamp }))
      .whereRef("sku_stock.sku", "=", "held.sku")
      .returning(["sku_stock.available", "sku_stock.low_stock_threshold"])
      .executeTakeFirst();
    if (!totals) throw outOfStock(line);
    const after = totals.available;
    await availabilityCrossed(em, line.sku, after + line.quantity, after, totals.low_stock_threshold);
    return reservation;
  }
  const deltas = new Map<string, number>();
  for (const line of lines) {
    const held = await holdLine(tables(em), line).returning("sku").executeTakeFirst();
    if (!held) throw outOfStock(line);
    deltas.set(line.sku, (deltas.get(line.sku) ?? 0) - line.quantity);
  }
  await changeAvailability(em, deltas);
  return reservation;
}

type Tables = Pick<ReturnType<typeof tables>, "updateTable">;

/** Holds a line's quantity if the location has it: the condition is re-checked on the latest row version. */
const holdLine = (db: Tables, line: Line) =>
  db
    .updateTable("stock_level")
    .set((eb) => ({ reserved: eb("reserved", "+", line.quantity), updated_at: clockTimestamp }))
    .where("sku", "=", line.sku)
    .where("location", "=", line.location)
    .where((eb) => eb(eb("on_hand", "-", eb.ref("reserved")), ">=", line.quantity));

const outOfStock = (line: Line) =>
  new FailedPreconditionError(`not enough stock of ${line.sku} at ${line.location} for ${line.quantity}`, { reason: "OUT_OF_STOCK" });

async function unknownStock(database: Database, lines: Line[], cause: unknown): Promise<InvalidArgumentError> {
  const em = database.em();
  const known = await tables(em).selectFrom("stock_level").select(["sku", "location"]).where("sku", "in", lines.map((l) => l.sku)).execute();
  const knownKeys = new Set(known.map((r) => `${r.sku}\u0000${r.location}`));
  const knownSkus = new Set(known.map((r) => r.sku));
  const violations = lines.flatMap((line, i) => {
    if (knownKeys.has(`${line.sku}\u0000${line.location}`)) return [];
    return knownSkus.has(line.sku)
      ? [{ field: `lines[${i}].location`, description: `no stock of ${line.sku} is kept at ${line.location}` }]
      : [{ field: `lines[${i}].sku`, description: `the inventory does not know ${line.sku}` }];
  });
  return new InvalidArgumentError(violations.length ? violations : [{ field: "lines", description: "names unknown stock" }], { cause });
}

async function lockReservation(em: EntityManager, id: string): Promise<ReservationRow> {
  const row = await selectReservation(em).where("id", "=", id).forUpdate().executeTakeFirst();
  if (!row) throw new NotFoundError(`no reservation ${id}`, { reason: "RESERVATION_NOT_FOUND" });
  return row;
}

/** Turns an active reservation into a sale; repeating it returns the committed reservation. */
export function commit(database: Database, id: string): Promise<ReservationView> {
  return database.transaction(async (em) => {
    // The common case in one statement, lines included (they never change); anything else is
    // explained from the locked row.
    const closed = await tables(em)
      .with("closed", (db) =>
        db
          .updateTable("reservation")
          .set({ state: "committed", closed_at: clockTimestamp })
          .where("id", "=", id)
          .where("state", "=", "active")
          .where("expires_at", ">", clockTimestamp)
          .returning(reservationSelection),
      )
      .selectFrom("closed")
      .selectAll()
      // The lines in the same statement: json_agg has no builder form.
      .select(
        sql<Line[] | null>`(select json_agg(json_build_object('sku', l.sku, 'location', l.location, 'quantity', l.quantity) order by l.sku, l.location)
          from reservation_line l where l.reservation_id = closed.id)`.as("lines"),
      )
      .executeTakeFirst();
    if (!closed) {
      const row = await lockReservation(em, id);
      if (row.state === "committed") return view(em, row);
      if (row.state !== "active") throw new FailedPreconditionError(`reservation ${id} was ${row.state}`, { reason: "RESERVATION_CLOSED" });
      throw new FailedPreconditionError(`reservation ${id} has expired`, { reason: "RESERVATION_EXPIRED" });
    }
    const { lines, ...row } = closed;
    const reservation = toView(row, lines ?? []);
    for (const line of reservation.lines) {
      await moveStock(em, line, { onHand: -line.quantity, reserved: -line.quantity, reason: "sold", note: "", actor: reservation.reference });
    }
    await publish(em, StockCommittedSchema, create(StockCommittedSchema, { reservationId: id, reference: reservation.reference, lines: eventLines(reservation.lines) }));
    return reservation;
  });
}

/** Returns an active reservation's stock; repeating it (or releasing an expired one) returns it unchanged. */
export function release(database: Database, id: string): Promise<ReservationView> {
  return database.transaction(async (em) => {
    const row = await lockReservation(em, id);
    if (row.state === "released" || row.state === "expired") return view(em, row);
    if (row.state === "committed") throw new FailedPreconditionError(`reservation ${id} was committed`, { reason: "RESERVATION_COMMITTED" });
    const [closed] = await closeReservations(em, [row], "released");
    return closed!;
  });
}

/**
 * Puts a committed reservation's units back into on-hand stock at their locations, each with a
 * "returned" movement naming the reservation; repeating it returns the restocked reservation unchanged.
 * `actor` (the caller) goes on the movements.
 */
export function restock(database: Database, id: string, actor: string): Promise<ReservationView> {
  return database.transaction(async (em) => {
    // The reservation row lock serialises concurrent restocks: the second one sees "restocked".
    const row = await lockReservation(em, id);
    if (row.state === "restocked") return view(em, row);
    if (row.state !== "committed") {
      throw new FailedPreconditionError(`reservation ${id} is ${row.state}, not committed`, { reason: "RESERVATION_NOT_COMMITTED" });
    }
    await tables(em).updateTable("reservation").set({ state: "restocked", restocked_at: clockTimestamp }).where("id", "=", id).execute();
    const reservation = { ...(await view(em, row)), state: "restocked" as const };
    const note = `restock of reservation ${id} (reference ${reservation.reference})`;
    const deltas = new Map<string, number>();
    // Lines come sorted by (sku, location): the lock order every writer follows.
    for (const line of reservation.lines) {
      await moveStock(em, line, { onHand: line.quantity, reserved: 0, reason: "returned", note, actor });
      deltas.set(line.sku, (deltas.get(line.sku) ?? 0) + line.quantity);
    }
    await changeAvailability(em, deltas);
    await publish(em, StockRestockedSchema, create(StockRestockedSchema, { reservationId: id, reference: reservation.reference, lines: eventLines(reservation.lines) }));
    return reservation;
  });
}

/**
 * Changes a line's stock level and records the movement with the on-hand figure after it, in one
 * statement (the insert reads the update's RETURNING through a CTE).
 */
async function moveStock(
  em: EntityManager,
  line: Line,
  change: { onHand: number; reserved: number; reason: "sold" | "returned"; note: string; actor: string },
): Promise<void> {
  await tables(em)
    .with("moved", (db) =>
      db
        .updateTable("stock_level")
        .set((eb) => ({ on_hand: eb("on_hand", "+", change.onHand), reserved: eb("reserved", "+", change.reserved), updated_at: clockTimestamp }))
        .where("sku", "=", line.sku)
        .where("location", "=", line.location)
        .returning("on_hand"),
    )
    .insertInto("stock_movement")
    .columns(["id", "sku", "location", "delta", "reason", "note", "actor", "on_hand_after"])
    .expression((db) =>
      db
        .selectFrom("moved")
        .select((eb) => [
          eb.cast<string>(eb.val(uuidv7()), "uuid").as("id"),
          eb.cast<string>(eb.val(line.sku), "text").as("sku"),
          eb.cast<string>(eb.val(line.location), "text").as("location"),
          eb.cast<number>(eb.val(change.onHand), "bigint").as("delta"),
          eb.cast<string>(eb.val(change.reason), "text").as("reason"),
          eb.cast<string>(eb.val(change.note), "text").as("note"),
          eb.cast<string>(eb.val(change.actor), "text").as("actor"),
          "on_hand",
        ]),
    )
    .execute();
}

/** Closes locked active reservations: their holds go back to availability, with events. */
async function closeReservations(em: EntityManager, rows: ReservationRow[], state: "released" | "expired"): Promise<ReservationView[]> {
  const ids = rows.map((r) => r.id);
  const closedRows = await tables(em)
    .updateTable("reservation")
    .set({ state, closed_at: clockTimestamp })
    .where("id", "in", ids)
    .returning(reservationSelection)
    .execute();
  const linesById = await loadLines(em, ids);
  const perStock = new Map<string, Line>();
  for (const lines of linesById.values()) {
    for (const line of lines) {
      const key = `${line.sku}\u0000${line.location}`;
      const total = perStock.get(key);
      if (total) total.quantity += line.quantity;
      else perStock.set(key, { ...line });
    }
  }
  const deltas = new Map<string, number>();
  for (const line of sortLines([...perStock.values()])) {
    await tables(em)
      .updateTable("stock_level")
      .set((eb) => ({ reserved: eb("reserved", "-", line.quantity), updated_at: clockTimestamp }))
      .where("sku", "=", line.sku)
      .where("location", "=", line.location)
      .execute();
    deltas.set(line.sku, (deltas.get(line.sku) ?? 0) + line.quantity);
  }
  await changeAvailability(em, deltas);
  const reason = state === "expired" ? ReleaseReason.EXPIRED : ReleaseReason.REQUESTED;
  const views = closedRows.map((row) => toView(row, linesById.get(row.id)!));
  for (const reservation of views) {
    await publish(
      em,
      StockReleasedSchema,
      create(StockReleasedSchema, { reservationId: reservation.id, reference: reservation.reference, lines: eventLines(reservation.lines), reason }),
    );
  }
  return views;
}

/**
 * Expires up to `limit` reservations past their expiry. Rows another instance is expiring (or a
 * caller is committing) are skipped, so any number of sweepers can run. Returns how many it expired.
 */
export function expireDue(database: Database, limit: number): Promise<number> {
  return database.transaction(async (em) => {
    const due = await selectReservation(em)
      .where("state", "=", "active")
      .where("expires_at", "<=", clockTimestamp)
      .orderBy("expires_at")
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length > 0) await closeReservations(em, due, "expired");
    return due.length;
  });
}
