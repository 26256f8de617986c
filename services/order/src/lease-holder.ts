// The holder recorded on the leases this process takes: the instance's identity, stable over a
// restart, and an incarnation new at every start (so a restart can tell its predecessor's leases
// from its own).
import { hostname } from "node:os";
import { uuidv7 } from "uuidv7";
import type { OrderConfig } from "./config.ts";
import type { LeaseHolder } from "./orders.ts";

/** ORDER_INSTANCE_ID, or "<hostname>/<service name>/<PORT>" (in Kubernetes the hostname is the pod name). */
export function leaseHolderFor(config: Pick<OrderConfig, "ORDER_INSTANCE_ID" | "PORT">, serviceName: string): LeaseHolder {
  return { instance: config.ORDER_INSTANCE_ID ?? `${hostname()}/${serviceName}/${config.PORT}`, incarnation: uuidv7() };
}
