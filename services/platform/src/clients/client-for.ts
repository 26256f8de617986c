// Typed clients for other services: `clientFor(CatalogService, { consulAddr })` and call away.
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createClientTransport, type ClientTarget, type ClientTransport, type ClientTransportOptions } from "./client-transport.ts";

type ConsulTarget = Extract<ClientTarget, { consulAddr: string }>;

/** A client's target and transport settings; the Consul name defaults to one derived from the package. */
export type ClientForOptions = ClientTransportOptions &
  ((Omit<ConsulTarget, "serviceName"> & { serviceName?: string }) | Extract<ClientTarget, { address: string }>);

// The transport behind each client, to close it; and every open one, for shutdown.
const transportOfClient = new WeakMap<object, ClientTransport>();
const open = new Set<ClientTransport>();

/**
 * A typed Connect client for `service` over gRPC (HTTP/2). Clients of the same service share one Consul
 * watch and one HTTP/2 session per instance in the process. Calls made while handling a call inherit
 * its deadline and cancellation.
 */
export function clientFor<T extends DescService>(service: T, options: ClientForOptions): Client<T> {
  const transport =
    options.address !== undefined
      ? createClientTransport(options)
      : createClientTransport({ ...options, serviceName: options.serviceName ?? consulServiceName(service) });
  open.add(transport);
  const client = createClient(service, transport);
  transportOfClient.set(client, transport);
  return client;
}

/** The transport behind a client from clientFor: its instances and their state. */
export function clientTransport(client: object): ClientTransport | undefined {
  return transportOfClient.get(client);
}

/** Closes a client from clientFor: its watch and sessions close once no other client shares them. */
export function closeClient(client: object): void {
  const transport = transportOfClient.get(client);
  if (!transport) return;
  transport.close();
  open.delete(transport);
}

/** Closes every client made by clientFor in this process (at shutdown, after in-flight calls drained). */
export function closeAllClients(): void {
  for (const transport of open) transport.close();
  open.clear();
}

/**
 * The Consul name services register under, from the protobuf package: "bazaar.<domain>.v<N>.X" →
 * "<domain>"; any other "<a>.<b>.v<N>.X" → "<b>".
 */
export function consulServiceName(service: Pick<DescService, "typeName">): string {
  const parts = service.typeName.split(".");
  const version = parts.findIndex((p) => /^v\d+((alpha|beta)\d*)?$/.test(p));
  const name = version > 0 ? parts[version - 1] : undefined;
  if (!name) {
    throw new TypeError(`cannot derive a Consul service name from ${service.typeName} (expected <package>.<name>.v<N>.<Service>): pass serviceName`);
  }
  return name;
}
