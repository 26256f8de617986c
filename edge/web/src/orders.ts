// The order service's client and the order's plain view, for the pages loaded on demand (checkout,
// confirmation, account): the first page does not carry the order service's descriptors.
import { createClient, type Client } from "@connectrpc/connect";
import { OrderService, OrderStatus, type Order } from "@bazaar/contracts/bazaar/order/v1/order_pb";
import { api } from "./api.ts";
import type { MoneyView } from "./strings.ts";
import { moneyView } from "./views.ts";

let client: Client<typeof OrderService> | undefined;
let on: ReturnType<typeof api> | undefined;

/** Orders on the pages' session (its tokens and guest cart token). */
export function orders(): Client<typeof OrderService> {
  const session = api();
  if (!client || on !== session) {
    client = createClient(OrderService, session.transport);
    on = session;
  }
  return client;
}

export interface OrderView {
  id: string;
  status: string;
  email: string;
  total: MoneyView | undefined;
  lines: { sku: string; name: string; quantity: number }[];
}

export function orderView(order: Order): OrderView {
  return {
    id: order.id,
    status: (OrderStatus[order.status] ?? "").toLowerCase().replace(/_/g, " "),
    email: order.email,
    total: moneyView(order.totals?.total),
    lines: order.lines.map((l) => ({ sku: l.sku, name: l.productName, quantity: l.quantity })),
  };
}
