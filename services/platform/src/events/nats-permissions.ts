// What a service's NATS user may do, derived from the event domains its definition declares: the one
// place both the prod overlay's nats.conf (generated from it, see tools/stack/src/nats-users.ts) and
// the local stack's private nats-server take their per-service users from. It grants exactly what the
// platform does for a service: ensure the streams it uses (create/update, never delete), publish its
// own domain's events, read the streams it consumes through durable consumers, read identity's stream
// through an ordered consumer (every service follows revocations), send dead letters when it consumes,
// and receive replies on _INBOX.
import { checkDomain, dlqStream, streamName } from "./subjects.ts";

/** The event domains a service publishes and consumes, as its ServiceDefinition declares them. */
export interface EventDomains {
  readonly publishes?: readonly string[];
  readonly consumes?: readonly string[];
}

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

/** Every service reads the token issuer's stream: the revocation feed. */
const revocationDomain = "identity";

export function natsPermissions(events: EventDomains): NatsPermissions {
  const publishes = [...(events.publishes ?? [])];
  const consumes = [...(events.consumes ?? [])];
  [...publishes, ...consumes].forEach(checkDomain);
  // ensureStreams at start: its own streams, those it consumes, identity's (revocations), and always the
  // dead letters' (ensureStreams adds it, even for the revocation feed of a service without events).
  const managed = [...[...new Set([...publishes, ...consumes, revocationDomain])].sort().map(streamName), dlqStream];
  const read = [...new Set([...consumes, revocationDomain])].sort().map(streamName);
  return {
    publish: [
      "$JS.API.INFO",
      ...managed.flatMap((s) => [`$JS.API.STREAM.INFO.${s}`, `$JS.API.STREAM.CREATE.${s}`, `$JS.API.STREAM.UPDATE.${s}`]),
      ...read.flatMap((s) => [
        `$JS.API.CONSUMER.*.${s}`,
        `$JS.API.CONSUMER.*.${s}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${s}.>`,
        `$JS.API.CONSUMER.MSG.NEXT.${s}.>`,
        `$JS.ACK.${s}.>`,
        `$JS.FC.${s}.>`,
      ]),
      ...publishes.map((domain) => `bazaar.${domain}.>`),
      ...(consumes.length > 0 ? ["bazaar.dlq.>"] : []),
    ],
    subscribe: ["_INBOX.>"],
  };
}

/** A user of a nats-server's authorization block; no `events` makes an unrestricted (admin) user. */
export interface NatsUser {
  user: string;
  /** Written as it is: a quoted literal (`"s3cret"`) or a variable (`$NATS_PASSWORD_CART`). */
  password: string;
  events?: EventDomains;
}

/** nats-server's `authorization { users = [...] }` block for these users, each service's permissions derived. */
export function natsAuthorization(users: readonly NatsUser[]): string {
  const list = (items: readonly string[]) => items.map((item) => JSON.stringify(item)).join(", ");
  const described = (domains: readonly string[] | undefined) => (domains?.length ? domains.join(", ") : "nothing");
  const blocks = users.map(({ user, password, events }) => {
    if (!events) return [`    {`, `      # ${user}: everything (tools and tests)`, `      user: ${user}`, `      password: ${password}`, `    }`].join("\n");
    const permissions = natsPermissions(events);
    const revocations = events.consumes?.includes(revocationDomain) ? "" : ` (and ${revocationDomain}: revocations)`;
    return [
      `    {`,
      `      # ${user}: publishes ${described(events.publishes)}; consumes ${described(events.consumes)}${revocations}`,
      `      user: ${user}`,
      `      password: ${password}`,
      `      permissions: {`,
      `        publish: { allow: [${list(permissions.publish)}] }`,
      `        subscribe: { allow: [${list(permissions.subscribe)}] }`,
      `      }`,
      `    }`,
    ].join("\n");
  });
  return `authorization {\n  users = [\n${blocks.join("\n")}\n  ]\n}\n`;
}
