// Erasure of a deleted account's personal data, service by service: identity publishes UserDeleted,
// and every service holding something about the person erases or anonymises it in its own database,
// once (the inbox), in the transaction that records the event.
import { sql, type RawBuilder } from "kysely";
import { UserDeletedSchema } from "@bazaar/contracts/bazaar/identity/v1/events_pb";
import type { EntityManager } from "./data/database.ts";
import { onEvent } from "./events/consumer.ts";
import type { ConsumerDefinition } from "./service.ts";

/** What a service does with a deleted user's data, inside the consumer's transaction (`em`). */
export type ErasePersonalData = (userId: string, em: EntityManager) => Promise<void>;

/**
 * The consumer of identity's UserDeleted that runs `erase` (durable `<name>-personal-data`). The
 * service's definition must list "identity" in `consumes`.
 */
export function personalDataErasure(name: string, erase: ErasePersonalData): ConsumerDefinition {
  return {
    domain: "identity",
    durable: `${name}-personal-data`,
    handlers: [onEvent(UserDeletedSchema, (event, { em }) => (event.userId === "" ? Promise.resolve() : erase(event.userId, em)))],
  };
}

/**
 * A postal address stored as JSON (PostalAddress's fields in camelCase) with only its country kept:
 * `set({ address: anonymisedAddress("address") })`. Tax and shipping figures stay explainable, the
 * person is gone.
 */
export function anonymisedAddress(column: string): RawBuilder<unknown> {
  return sql`jsonb_build_object('recipientName', '', 'line1', '', 'line2', '', 'city', '', 'region', '', 'postalCode', '', 'phone', '', 'countryCode', coalesce(${sql.ref(column)} ->> 'countryCode', ''))`;
}
