// Which Consul name a call goes to: the one the callee's package gives (bazaar.catalog.v1 → catalog),
// unless this deployment renames it — tests run services under unique names, a blue/green rollout
// under "catalog-blue". One mechanism for every service and the edge.
import type { DescService } from "@bufbuild/protobuf";
import { consulServiceName } from "./client-for.ts";

/** Consul names of called services, by the name each registers under by default: { catalog: "catalog-blue" }. */
export type Upstreams = Readonly<Record<string, string>>;

/** The Consul name to call `service` at. */
export function upstreamName(service: Pick<DescService, "typeName">, upstreams: Upstreams = {}): string {
  const name = consulServiceName(service);
  return upstreams[name] ?? name;
}

/**
 * Upstreams from their text form "catalog=catalog-blue,inventory=inventory-2" (the UPSTREAMS variable);
 * undefined for a malformed list, so that config validation names the variable.
 */
export function parseUpstreams(text: string): Upstreams | undefined {
  const upstreams: Record<string, string> = {};
  for (const pair of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const match = /^([a-z][a-z0-9-]*)=([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(pair);
    if (!match) return undefined;
    upstreams[match[1]!] = match[2]!;
  }
  return upstreams;
}
