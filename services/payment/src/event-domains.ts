// The event domains payment publishes and consumes: its definition declares them from here, and the
// stack and the prod overlay's nats.conf derive its NATS user's permissions from them (natsPermissions).
import type { EventDomains } from "@bazaar/platform";

export const eventDomains = {
  publishes: ["payment"],
  consumes: ["identity"],
} as const satisfies EventDomains;
