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
  asDate,
  FailedPreconditionError,
  InvalidArgumentError,
  isForeignKeyViolation,
  isUniqueViolation,
  NotFoundError,
  placeholders,
  publish,
  query,
  type Database,
  type EntityManager,
  type Row,
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
import { toNumber } from "./sql.ts";

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

const reservationColumns = "id, reference, state, created_at, expires_at, closed_at";

async function loadLines(em: EntityManager, ids: string[]): Promise<Map<string, Line[]>> {
  const result = new Map<string, Line[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return result;
  const rows = await query(
    em,
    `select reservation_id, sku, location, quantity from reservation_line where reservation_id in (${placeholders(ids.length)}) order by sku, location`,
    ids,
  );
  for (const row of rows) {
    result.get(String(row.reservation_id))!.push({ sku: String(row.sku), location: String(row.location), quantity: toNumber(row.quantity) });
  }
  return result;
}

function toView(row: Row, lines: Line[]): ReservationView {
  return {
    id: String(row.id),
    reference: String(row.reference),
    state: row.state as ReservationState,
    lines,
    createdAt: asDate(row.created_at),
    expiresAt: asDate(row.expires_at),
    closedAt: row.closed_at == null ? undefined : asDate(row.closed_at),
  };
}

async function view(em: EntityManager, row: Row): Promise<ReservationView> {
  return toView(row, (await loadLines(em, [String(row.id)])).get(String(row.id))!);
}

export async function getReservation(database: Database, id: string): Promise<ReservationView> {
  const em = database.em();
  const [row] = await query(em, `select ${reservationColumns} from reservation where id = ?`, [id]);
  if (!row) throw new NotFoundError(`no reservation ${id}`, { reason: "RESERVATION_NOT_FOUND" });
  return view(em, row);
}

const sameLines = (a: Line[], b: Line[]) =>
  a.length === b.length && a.every((line, i) => byStock(line, b[i]!) === 0 && line.quantity === b[i]!.quantity);

async function existingFor(database: Database, reference: string, lines: Line[]): Promise<ReservationView | undefined> {
  const em = database.em();
  const [row] = await query(em, `select ${reservationColumns} from reservation where reference = ?`, [reference]);
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
  const [row] = await query(
    em,
    `with made as (
       insert into reservation (id, reference, state, expires_at) values (?, ?, 'active', clock_timestamp() + make_interval(secs => ?))
       returning ${reservationColumns}),
     held as (
       insert into reservation_line (reservation_id, sku, location, quantity) values ${lines.map(() => "(?::uuid, ?, ?, ?::bigint)").join(", ")})
     select * from made`,
    [id, reference, ttlMs / 1000, ...lines.flatMap((l) => [id, l.sku, l.location, l.quantity])],
  );
  const reservation = toView(row!, lines);
  await publish(
    em,
    StockReservedSchema,
    create(StockReservedSchema, { reservationId: id, reference, lines: eventLines(lines), expiresAt: timestampFromDate(reservation.expiresAt) }),
  );

  // The row locks start here and last until commit: as few statements as possible from now on.
  if (lines.length === 1) {
    const [line] = lines as [Line];
    const [totals] = await query(
      em,
      `with held as (
         update stock_level set reserved = reserved + ?, updated_at = clock_timestamp()
         where sku = ? and location = ? and on_hand - reserved >= ? returning sku)
       update sku_stock s set available = s.available - ?, updated_at = clock_timestamp()
       from held where s.sku = held.sku returning s.available, s.low_stock_threshold`,
      [line.quantity, line.sku, line.location, line.quantity, line.quantity],
    );
    if (!totals) throw outOfStock(line);
    const after = toNumber(totals.available);
    await availabilityCrossed(em, line.sku, after + line.quantity, after, toNumber(totals.low_stock_threshold));
    return reservation;
  }
  const deltas = new Map<string, number>();
  for (const line of lines) {
    const held = await query(
      em,
      "update stock_level set reserved = reserved + ?, updated_at = clock_timestamp() where sku = ? and location = ? and on_hand - reserved >= ? returning sku",
      [line.quantity, line.sku, line.location, line.quantity],
    );
    if (held.length === 0) throw outOfStock(line);
    deltas.set(line.sku, (deltas.get(line.sku) ?? 0) - line.quantity);
  }
  await changeAvailability(em, deltas);
  return reservation;
}

const outOfStock = (line: Line) =>
  new FailedPreconditionError(`not enough stock of ${line.sku} at ${line.location} for ${line.quantity}`, { reason: "OUT_OF_STOCK" });

async function unknownStock(database: Database, lines: Line[], cause: unknown): Promise<InvalidArgumentError> {
  const em = database.em();
  const known = await query(em, `select sku, location from stock_level where sku in (${placeholders(lines.length)})`, lines.map((l) => l.sku));
  const knownKeys = new Set(known.map((r) => `${String(r.sku)}\u0000${String(r.location)}`));
  const knownSkus = new Set(known.map((r) => String(r.sku)));
  const violations = lines.flatMap((line, i) => {
    if (knownKeys.has(`${line.sku}\u0000${line.location}`)) return [];
    return knownSkus.has(line.sku)
      ? [{ field: `lines[${i}].location`, description: `no stock of ${line.sku} is kept at ${line.location}` }]
      : [{ field: `lines[${i}].sku`, description: `the inventory does not know ${line.sku}` }];
  });
  return new InvalidArgumentError(violations.length ? violations : [{ field: "lines", description: "names unknown stock" }], { cause });
}

async function lockReservation(em: EntityManager, id: string): Promise<Row> {
  const [row] = await query(em, `select ${reservationColumns} from reservation where id = ? for update`, [id]);
  if (!row) throw new NotFoundError(`no reservation ${id}`, { reason: "RESERVATION_NOT_FOUND" });
  return row;
}

/** Turns an active reservation into a sale; repeating it returns the committed reservation. */
export function commit(database: Database, id: string): Promise<ReservationView> {
  return database.transaction(async (em) => {
    // The common case in one statement, lines included (they never change); anything else is
    // explained from the locked row.
    const [closed] = await query(
      em,
      `with closed as (
         update reservation set state = 'committed', closed_at = clock_timestamp()
         where id = ? and state = 'active' and expires_at > clock_timestamp() returning ${reservationColumns})
       select closed.*,
         (select json_agg(json_build_object('sku', l.sku, 'location', l.location, 'quantity', l.quantity) order by l.sku, l.location)
          from reservation_line l where l.reservation_id = closed.id) as lines
       from closed`,
      [id],
    );
    if (!closed) {
      const row = await lockReservation(em, id);
      if (row.state === "committed") return view(em, row);
      if (row.state !== "active") throw new FailedPreconditionError(`reservation ${id} was ${String(row.state)}`, { reason: "RESERVATION_CLOSED" });
      throw new FailedPreconditionError(`reservation ${id} has expired`, { reason: "RESERVATION_EXPIRED" });
    }
    const raw = (typeof closed.lines === "string" ? JSON.parse(closed.lines) : (closed.lines ?? [])) as Row[];
    const reservation = toView(
      closed,
      raw.map((l) => ({ sku: String(l.sku), location: String(l.location), quantity: toNumber(l.quantity) })),
    );
    for (const line of reservation.lines) {
      await query(
        em,
        `with sold as (
           update stock_level set on_hand = on_hand - ?, reserved = reserved - ?, updated_at = clock_timestamp()
           where sku = ? and location = ? returning on_hand)
         insert into stock_movement (id, sku, location, delta, reason, note, actor, on_hand_after)
         select ?, ?, ?, ?, 'sold', '', ?, on_hand from sold`,
        [line.quantity, line.quantity, line.sku, line.location, uuidv7(), line.sku, line.location, -line.quantity, reservation.reference],
      );
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
      throw new FailedPreconditionError(`reservation ${id} is ${String(row.state)}, not committed`, { reason: "RESERVATION_NOT_COMMITTED" });
    }
    await query(em, "update reservation set state = 'restocked', restocked_at = clock_timestamp() where id = ?", [id]);
    const reservation = { ...(await view(em, row)), state: "restocked" as const };
    const note = `restock of reservation ${id} (reference ${reservation.reference})`;
    const deltas = new Map<string, number>();
    // Lines come sorted by (sku, location): the lock order every writer follows.
    for (const line of reservation.lines) {
      await query(
        em,
        `with back as (
           update stock_level set on_hand = on_hand + ?, updated_at = clock_timestamp()
           where sku = ? and location = ? returning on_hand)
         insert into stock_movement (id, sku, location, delta, reason, note, actor, on_hand_after)
         select ?, ?, ?, ?, 'returned', ?, ?, on_hand from back`,
        [line.quantity, line.sku, line.location, uuidv7(), line.sku, line.location, line.quantity, note, actor],
      );
      deltas.set(line.sku, (deltas.get(line.sku) ?? 0) + line.quantity);
    }
    await changeAvailability(em, deltas);
    await publish(em, StockRestockedSchema, create(StockRestockedSchema, { reservationId: id, reference: reservation.reference, lines: eventLines(reservation.lines) }));
    return reservation;
  });
}

/** Closes locked active reservations: their holds go back to availability, with events. */
async function closeReservations(em: EntityManager, rows: Row[], state: "released" | "expired"): Promise<ReservationView[]> {
  const ids = rows.map((r) => String(r.id));
  const closedRows = await query(
    em,
    `update reservation set state = ?, closed_at = clock_timestamp() where id in (${placeholders(ids.length)}) returning ${reservationColumns}`,
    [state, ...ids],
  );
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
    await query(em, "update stock_level set reserved = reserved - ?, updated_at = clock_timestamp() where sku = ? and location = ?", [
      line.quantity,
      line.sku,
      line.location,
    ]);
    deltas.set(line.sku, (deltas.get(line.sku) ?? 0) + line.quantity);
  }
  await changeAvailability(em, deltas);
  const reason = state === "expired" ? ReleaseReason.EXPIRED : ReleaseReason.REQUESTED;
  const views = closedRows.map((row) => toView(row, linesById.get(String(row.id))!));
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
    const due = await query(
      em,
      `select ${reservationColumns} from reservation where state = 'active' and expires_at <= clock_timestamp()
       order by expires_at limit ? for update skip locked`,
      [limit],
    );
    if (due.length > 0) await closeReservations(em, due, "expired");
    return due.length;
  });
}
