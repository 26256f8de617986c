// Names on the wire, all derived from the event's protobuf type name so that producers, streams and
// consumers agree without configuration: `bazaar.order.v1.OrderPlaced` is published on
// `bazaar.order.order_placed`, kept in stream `BAZAAR_ORDER`; poison messages of consumer `x` go to
// `bazaar.dlq.x` in stream `BAZAAR_DLQ`.

/** An event type, domain, or consumer name that cannot be mapped onto subjects; a programming error. */
export class EventContractError extends Error {
  override name = "EventContractError";
}

const typeNamePattern = /^bazaar\.([a-z][a-z0-9_]*)\.v[0-9]+\.([A-Z][A-Za-z0-9]*)$/;
const domainPattern = /^[a-z][a-z0-9_]*$/;
const durablePattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The dead-letter stream and its subjects. */
export const dlqStream = "BAZAAR_DLQ";

/** Header carrying the event's protobuf type name, so consumers decode without guessing. */
export const eventTypeHeader = "Bazaar-Event-Type";

/** The domain of an event type: `bazaar.order.v1.OrderPlaced` → `order`. */
export function domainOf(typeName: string): string {
  return parseTypeName(typeName).domain;
}

/** The subject an event type is published on: `bazaar.order.v1.OrderPlaced` → `bazaar.order.order_placed`. */
export function subjectFor(typeName: string): string {
  const { domain, message } = parseTypeName(typeName);
  return `bazaar.${domain}.${snakeCase(message)}`;
}

/** The stream holding a domain's events: `order` → `BAZAAR_ORDER`. */
export function streamName(domain: string): string {
  checkDomain(domain);
  return `BAZAAR_${domain.toUpperCase()}`;
}

/** Where consumer `durable` sends messages it gave up on. */
export function dlqSubject(durable: string): string {
  checkDurable(durable);
  return `bazaar.dlq.${durable}`;
}

export function checkDomain(domain: string): void {
  if (!domainPattern.test(domain) || domain === "dlq") {
    throw new EventContractError(`event domain "${domain}" must be lower-case letters, digits and underscores, starting with a letter (and not "dlq")`);
  }
}

export function checkDurable(durable: string): void {
  if (!durablePattern.test(durable)) {
    throw new EventContractError(`consumer name "${durable}" must be 1-64 letters, digits, "_" or "-" (it names a durable consumer and a subject token)`);
  }
}

function parseTypeName(typeName: string): { domain: string; message: string } {
  const match = typeNamePattern.exec(typeName);
  if (!match) {
    throw new EventContractError(`event type "${typeName}" must be named bazaar.<domain>.v<N>.<PastTenseName>, e.g. bazaar.order.v1.OrderPlaced`);
  }
  return { domain: match[1]!, message: match[2]! };
}

function snakeCase(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2") // "SKUReserved" → "SKU_Reserved"
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase();
}
