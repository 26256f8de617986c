// The order listings: keyset pages over `id desc` (UUIDv7, so newest first), for one customer or for
// staff's search by status, customer, creation time and a query matching an id, an email or a SKU.
import { isUuid, keysetPage, sql, typedQueries, type EntityManager, type Keyset, type Page, type PageCursor } from "@bazaar/platform";
import { orderEntities } from "./entities.ts";
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

/** Newest first. */
export const ORDERS_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };

export async function listOrders(em: EntityManager, filter: OrderFilter, page: PageCursor): Promise<Page<OrderRecord>> {
  const q = filter.query?.trim();
  const select = typedQueries(em, orderEntities)
    .selectFrom("orders")
    .selectAll()
    .$if(filter.userId !== undefined, (s) => s.where("user_id", "=", filter.userId!))
    .$if(Boolean(filter.statuses?.length), (s) => s.where("status", "in", [...filter.statuses!]))
    .$if(Boolean(q) && isUuid(q!), (s) => s.where("id", "=", q!.toLowerCase()))
    .$if(Boolean(q) && !isUuid(q!) && q!.includes("@"), (s) => s.where(sql<boolean>`lower(email) = lower(${q})`))
    .$if(Boolean(q) && !isUuid(q!) && !q!.includes("@"), (s) =>
      s.where(({ exists, selectFrom }) => exists(selectFrom("order_line as l").select("l.sku").whereRef("l.order_id", "=", "orders.id").where("l.sku", "=", q!))),
    )
    .$if(filter.createdAfter !== undefined, (s) => s.where("created_at", ">=", filter.createdAfter!))
    .$if(filter.createdBefore !== undefined, (s) => s.where("created_at", "<", filter.createdBefore!));
  const { rows, nextPageToken } = await keysetPage(select, page);
  return { rows: await withDetails(em, rows), nextPageToken };
}
