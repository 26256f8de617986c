// The holder recorded on the leases this process takes: the instance's stable identity (the platform's
// INSTANCE_ID), and an incarnation new at every start, so a restart can tell its predecessor's leases
// from its own.
import { hostname } from "node:os";
import type { PlatformConfig } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import type { LeaseHolder } from "./orders.ts";

/**
 * INSTANCE_ID, else "<hostname>/<PORT>" when the port is fixed (in Kubernetes the hostname is the pod
 * name), else the incarnation itself: a process on a random port has no predecessor to take over from.
 */
export function leaseHolderFor(config: Pick<PlatformConfig, "INSTANCE_ID" | "PORT">): LeaseHolder {
  const incarnation = uuidv7();
  const instance = config.INSTANCE_ID ?? (config.PORT !== 0 ? `${hostname()}/${config.PORT}` : incarnation);
  return { instance, incarnation };
}
