// One NATS user per service under services/, its permissions derived (natsPermissions) from the event
// domains the service declares in src/event-domains.ts, the same module its definition takes them from.
// A service without that file publishes and consumes nothing: its user only follows revocations.
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { EventDomains } from "@bazaar/platform/nats-permissions";
import type { ServiceDefinition } from "./services.ts";

export interface ServiceNatsUser {
  /** The service's name, also its NATS user name. */
  service: string;
  events: EventDomains;
}

/** The services that reach NATS: those under `<root>/services` (the edge does not). */
export function natsClients(services: readonly ServiceDefinition[], root: string): ServiceDefinition[] {
  return services.filter((service) => path.dirname(service.dir) === path.join(root, "services"));
}

/** Each service's user with the event domains it declares, in the order given. */
export async function serviceNatsUsers(services: readonly ServiceDefinition[]): Promise<ServiceNatsUser[]> {
  return Promise.all(
    services.map(async (service) => {
      const file = path.join(service.dir, "src", "event-domains.ts");
      if (!existsSync(file)) return { service: service.name, events: {} };
      const module_ = (await import(pathToFileURL(file).href)) as { eventDomains?: EventDomains };
      if (!module_.eventDomains) throw new TypeError(`${file} exports no eventDomains`);
      return { service: service.name, events: module_.eventDomains };
    }),
  );
}
