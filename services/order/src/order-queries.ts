// The order listings: keyset pages over `id desc` (UUIDv7, so newest first), for one customer or for
// staff's search by status, customer, creation time and a query matching an id, an email or a SKU.
import { isUuid, query, type EntityManager } from "@bazaar/platform";
import { withDetails, type OrderRecord } from "./orders.ts";
import type { Status } from "./order-status.ts";

export interface OrderFilter {
  userId?: string;
  statuses?: readonly Status[];
  /** An order id, an email (exact, case-insensitive) or a SKU. */
  query?: string;
  createdAfter?: Date;
  createdBefore?: Date;
}

export interface OrderPage {
  orders: OrderRecord[];
  more: boolean;
}

export async function listOrders(em: EntityManager, filter: OrderFilter, page: { limit: number; beforeId?: string }): Promise<OrderPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.userId !== undefined) {
    where.push("user_id = ?");
    params.push(filter.userId);
  }
  if (filter.statuses?.length) {
    where.push(`status in (${filter.statuses.map(() => "?").join(", ")})`);
    params.push(...filter.statuses);
  }
  const q = filter.query?.trim();
  if (q) {
    if (isUuid(q)) {
      where.push("id = ?");
      params.push(q.toLowerCase());
    } else if (q.includes("@")) {
      where.push("lower(email) = lower(?)");
      params.push(q);
    } else {
      where.push("exists (select 1 from order_line l where l.order_id = orders.id and l.sku = ?)");
      params.push(q);
    }
  }
  if (filter.createdAfter) {
    where.push("created_at >= ?");
    params.push(filter.createdAfter);
  }
  if (filter.createdBefore) {
    where.push("created_at < ?");
    params.push(filter.createdBefore);
  }
  if (page.beforeId) {
    where.push("id < ?");
    params.push(page.beforeId);
  }
  const rows = await query(
    em,
    `select * from orders ${where.length ? `where ${where.join(" and ")}` : ""} order by id desc limit ?`,
    [...params, page.limit + 1],
  );
  const more = rows.length > page.limit;
  return { orders: await withDetails(em, rows.slice(0, page.limit)), more };
}
