// Which of the console's sections this shop has. A section whose service is absent from the mesh is
// hidden, not broken: right after sign-in the console makes one cheap staff read per optional service
// (in parallel); one that answers UNAVAILABLE (the edge finds no passing instance of it) or
// UNIMPLEMENTED / NOT_FOUND (the edge does not route it) is absent, and its navigation entry is
// left out — as are the dashboard's figures that need it. Any other answer (even a refusal) means
// the service is there. What was learned holds until the next sign-in.
import { Code, ConnectError } from "@connectrpc/connect";
import type { StaffClient } from "./session.ts";

/** The services sections depend on (identity is always there: the console signs in through it). */
export type ServiceName = "catalog" | "inventory" | "orders" | "returns" | "promotions" | "notifications";

/** True for the answers that mean "this service is not in the mesh". */
export function isAbsent(error: unknown): boolean {
  return error instanceof ConnectError && (error.code === Code.Unavailable || error.code === Code.Unimplemented || error.code === Code.NotFound);
}

const probes: Record<ServiceName, (client: StaffClient) => Promise<unknown>> = {
  catalog: (c) => c.catalog.listCategories({}),
  inventory: (c) => c.inventory.listStockLevels({ pageSize: 1 }),
  orders: (c) => c.orders.listOrders({ pageSize: 1 }),
  returns: (c) => c.returns.listReturns({ pageSize: 1 }),
  promotions: (c) => c.promotions.listPromotions({ pageSize: 1 }),
  notifications: (c) => c.notifications.listNotifications({ pageSize: 1 }),
};

/** The services that answered (or refused for another reason than being absent). */
export async function probeServices(client: Omit<StaffClient, "user" | "services">): Promise<ReadonlySet<ServiceName>> {
  const names = Object.keys(probes) as ServiceName[];
  const outcomes = await Promise.all(names.map((name) => probes[name](client as StaffClient).then(() => true, (error: unknown) => !isAbsent(error))));
  return new Set(names.filter((_, i) => outcomes[i]));
}
