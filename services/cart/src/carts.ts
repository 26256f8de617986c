// Cart rows and lines in SQL. Reads take one statement (cart and lines together); writes lock the
// cart row first (SELECT … FOR UPDATE) and read its lines in a later statement, so a write that
// waited for the lock sees what the previous one committed.
import { asDate, type EntityManager } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";

export type CartStateName = "active" | "merged" | "checked_out" | "expired";

export interface CartRow {
  id: string;
  user_id: string | null;
  token_hash: string | null;
  state: CartStateName;
  currency: string;
  country_code: string | null;
  region: string;
  postal_code: string;
  shipping_option_id: string | null;
  order_id: string | null;
  merged_into: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface LineRow {
  sku: string;
  quantity: number;
  added_at: Date;
}

/** A cart as stored: its row, its lines in the order they were added, and the promotion codes it holds (in the order entered). */
export interface StoredCart {
  cart: CartRow;
  lines: LineRow[];
  codes: string[];
}

const cartColumns =
  "c.id, c.user_id, c.token_hash, c.state, c.currency, c.country_code, c.region, c.postal_code, c.shipping_option_id, c.order_id, c.merged_into, c.created_at, c.updated_at";

const linesSubquery = `coalesce((select json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity, 'added_at', l.added_at) order by l.added_at, l.sku)
  from cart_line l where l.cart_id = c.id), '[]') as lines`;

const codesSubquery = `coalesce((select array_agg(p.code order by p.added_at, p.code) from cart_promotion_code p where p.cart_id = c.id), '{}') as codes`;

/** What a read of a whole cart selects: the row, its lines and its codes in one statement. */
const wholeCart = `${cartColumns}, ${linesSubquery}, ${codesSubquery}`;

type RawCart = Omit<CartRow, "created_at" | "updated_at" | "currency" | "country_code"> & {
  currency: string;
  country_code: string | null;
  created_at: Date | string;
  updated_at: Date | string;
};
type RawLine = { sku: string; quantity: number; added_at: Date | string };


function toCart(raw: RawCart): CartRow {
  return { ...raw, currency: raw.currency.trim(), country_code: raw.country_code?.trim() ?? null, created_at: asDate(raw.created_at), updated_at: asDate(raw.updated_at) };
}

function toLines(raw: RawLine[] | string): LineRow[] {
  const lines = typeof raw === "string" ? (JSON.parse(raw) as RawLine[]) : raw;
  return lines.map((l) => ({ sku: l.sku, quantity: Number(l.quantity), added_at: asDate(l.added_at) }));
}

type RawWholeCart = RawCart & { lines: RawLine[] | string; codes: string[] };

function toStored(row: RawWholeCart | undefined): StoredCart | undefined {
  if (!row) return undefined;
  const { lines, codes, ...cart } = row;
  return { cart: toCart(cart), lines: toLines(lines), codes };
}

/** A cart, its lines and codes, unlocked: one statement. */
export async function readCart(em: EntityManager, id: string): Promise<StoredCart | undefined> {
  const [row] = await em.execute<RawWholeCart[]>(`select ${wholeCart} from cart c where c.id = ?`, [id]);
  return toStored(row);
}

/** A user's active cart, its lines and codes, unlocked. */
export async function readActiveCartOf(em: EntityManager, userId: string): Promise<StoredCart | undefined> {
  const [row] = await em.execute<RawWholeCart[]>(`select ${wholeCart} from cart c where c.user_id = ? and c.state = 'active'`, [userId]);
  return toStored(row);
}

export async function readLines(em: EntityManager, cartId: string): Promise<LineRow[]> {
  const rows = await em.execute<RawLine[]>("select sku, quantity, added_at from cart_line where cart_id = ? order by added_at, sku", [cartId]);
  return toLines(rows);
}

/** Locks a cart row for the rest of the transaction. */
export async function lockCart(em: EntityManager, id: string): Promise<CartRow | undefined> {
  const [row] = await em.execute<RawCart[]>(`select ${cartColumns} from cart c where c.id = ? for update`, [id]);
  return row ? toCart(row) : undefined;
}

/**
 * Locks the user's active cart, creating it in `currency` when they have none and `create` is set.
 * Concurrent creators meet at the one-active-cart-per-user index: one inserts, the others wait for
 * it and lock the same row.
 */
export async function lockActiveCartOf(em: EntityManager, userId: string, create: { currency: string } | undefined): Promise<{ cart: CartRow; created: boolean } | undefined> {
  let created = false;
  if (create) {
    const inserted = await em.execute<{ id: string }[]>(
      "insert into cart (id, user_id, state, currency) values (?, ?, 'active', ?) on conflict (user_id) where state = 'active' and user_id is not null do nothing returning id",
      [uuidv7(), userId, create.currency],
    );
    created = inserted.length > 0;
  }
  const [row] = await em.execute<RawCart[]>(`select ${cartColumns} from cart c where c.user_id = ? and c.state = 'active' for update`, [userId]);
  return row ? { cart: toCart(row), created } : undefined;
}

/** A new, empty guest cart: one statement, answering the row it wrote. */
export async function insertGuestCart(em: EntityManager, tokenHash: string, currency: string): Promise<StoredCart> {
  const [row] = await em.execute<RawCart[]>(`insert into cart as c (id, token_hash, state, currency) values (?, ?, 'active', ?) returning ${cartColumns}`, [
    uuidv7(),
    tokenHash,
    currency,
  ]);
  return { cart: toCart(row!), lines: [], codes: [] };
}

/**
 * Checks a cart out by `orderId` when it is active (or expired meanwhile: the confirmed order wins),
 * in one statement; undefined when it is in another state or missing. Its lines cannot change after
 * this (every write requires an active cart under the row lock), so a later read of them is exact.
 */
export async function checkOut(em: EntityManager, id: string, orderId: string): Promise<CartRow | undefined> {
  const [row] = await em.execute<RawCart[]>(
    `update cart as c set state = 'checked_out', order_id = ?, updated_at = now() where c.id = ? and c.state in ('active', 'expired') returning ${cartColumns}`,
    [orderId, id],
  );
  return row ? toCart(row) : undefined;
}

/** Sets a line's quantity (adding the line when absent; `addedAt` keeps a merged line's first-added time). */
export async function setLine(em: EntityManager, cartId: string, sku: string, quantity: number, addedAt?: Date): Promise<void> {
  await em.execute(
    "insert into cart_line (cart_id, sku, quantity, added_at) values (?, ?, ?, coalesce(?::timestamptz, clock_timestamp())) on conflict (cart_id, sku) do update set quantity = excluded.quantity",
    [cartId, sku, quantity, addedAt?.toISOString() ?? null],
  );
}

export async function deleteLine(em: EntityManager, cartId: string, sku: string): Promise<void> {
  await em.execute("delete from cart_line where cart_id = ? and sku = ?", [cartId, sku]);
}

export async function deleteLines(em: EntityManager, cartId: string): Promise<void> {
  await em.execute("delete from cart_line where cart_id = ?", [cartId]);
}

/** The fields of a cart a write may change; every write also moves updated_at (and so the expiry). */
export interface CartPatch {
  currency?: string;
  shipping?: { countryCode: string; region: string; postalCode: string; shippingOptionId: string };
  state?: { name: "checked_out"; orderId: string } | { name: "merged"; into: string };
}

/**
 * Applies `patch` and moves updated_at; answers the cart as it is now, lines and codes included (the
 * statement sees the transaction's earlier changes to them), so a write needs no read after it.
 */
export async function touchCart(em: EntityManager, id: string, patch: CartPatch = {}): Promise<StoredCart> {
  const sets = ["updated_at = now()"];
  const params: unknown[] = [];
  if (patch.currency) {
    sets.push("currency = ?");
    params.push(patch.currency);
  }
  if (patch.shipping) {
    sets.push("country_code = ?", "region = ?", "postal_code = ?", "shipping_option_id = ?");
    params.push(patch.shipping.countryCode, patch.shipping.region, patch.shipping.postalCode, patch.shipping.shippingOptionId);
  }
  if (patch.state?.name === "checked_out") {
    sets.push("state = 'checked_out'", "order_id = ?");
    params.push(patch.state.orderId);
  } else if (patch.state?.name === "merged") {
    sets.push("state = 'merged'", "merged_into = ?");
    params.push(patch.state.into);
  }
  const [row] = await em.execute<RawWholeCart[]>(`update cart as c set ${sets.join(", ")} where c.id = ? returning ${wholeCart}`, [...params, id]);
  return toStored(row)!;
}

/**
 * Marks active carts whose time to live has passed EXPIRED, up to `limit` per call (guest and user
 * carts have different times). Rows another transaction holds are skipped, not waited for.
 */
export async function expireIdle(em: EntityManager, guestTtlSeconds: number, userTtlSeconds: number, limit: number): Promise<number> {
  const rows = await em.execute<{ id: string }[]>(
    // updated_at stays the last write, so expire_time keeps saying when it expired.
    `update cart set state = 'expired'
      where id in (select id from cart
                    where state = 'active'
                      and updated_at < now() - make_interval(secs => least(?::double precision, ?::double precision))
                      and updated_at < now() - make_interval(secs => case when user_id is null then ?::double precision else ?::double precision end)
                    order by updated_at limit ? for update skip locked)
      returning id`,
    [guestTtlSeconds, userTtlSeconds, guestTtlSeconds, userTtlSeconds, limit],
  );
  return rows.length;
}
