import { toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { context } from "@opentelemetry/api";
import { uuidv7 } from "uuidv7";
import type { EntityManager } from "../data/database.ts";
import { EventContractError, subjectFor } from "./subjects.ts";
import { traceHeaders } from "./trace-headers.ts";

export interface PublishedEvent {
  eventId: string;
  subject: string;
}

const uuidV7Pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Records `event` in the outbox inside the caller's transaction, so it is published if and only if
 * the change that caused it commits (the relay is woken by NOTIFY at commit). An empty `event_id`
 * is filled with a new UUIDv7 and an unset `occurred_at` with now, on the given message.
 *
 * @example
 *   await database.transaction(async (em) => {
 *     em.persist(order);
 *     await publish(em, OrderPlacedSchema, create(OrderPlacedSchema, { orderId: order.id }));
 *   });
 */
export async function publish<Desc extends DescMessage>(em: EntityManager, schema: Desc, event: MessageShape<Desc>): Promise<PublishedEvent> {
  if (event.$typeName !== schema.typeName) {
    throw new EventContractError(`publish(${schema.typeName}) was given a ${event.$typeName} message`);
  }
  if (!em.isInTransaction()) {
    throw new EventContractError(`publish(${schema.typeName}) must run inside a transaction (database.transaction), or the event could outlive a rolled-back change`);
  }
  const { sql, params, published } = outboxInsert(schema, event);
  await em.execute(sql, params, "run");
  return published;
}

/**
 * The outbox insert of `event` as SQL to run inside the statement that makes the change, as one of
 * its data-modifying CTEs (`with changed as (update …), e as (<sql>) …`): the change and its event
 * are then atomic as one statement, without a transaction round trip. With `when` (the name of a CTE
 * of that statement) the event is recorded only if that CTE returned a row. Fills event_id and
 * occurred_at as publish() does.
 */
export function outboxInsert<Desc extends DescMessage>(
  schema: Desc,
  event: MessageShape<Desc>,
  when?: string,
): { sql: string; params: unknown[]; published: PublishedEvent } {
  const typeName = schema.typeName;
  if (event.$typeName !== typeName) {
    throw new EventContractError(`publish(${typeName}) was given a ${event.$typeName} message`);
  }
  if (when !== undefined && !/^[a-z_][a-z0-9_]*$/.test(when)) throw new EventContractError(`outboxInsert: "${when}" is not a CTE name`);
  const subject = subjectFor(typeName);
  const fields = event as unknown as Record<string, unknown>;

  const idField = schema.fields.find((f) => f.name === "event_id");
  if (!idField || idField.fieldKind !== "scalar" || typeof fields[idField.localName] !== "string") {
    throw new EventContractError(`event ${typeName} needs a string field event_id (docs/architecture.md §2)`);
  }
  let eventId = fields[idField.localName] as string;
  if (eventId === "") {
    eventId = uuidv7();
    fields[idField.localName] = eventId;
  } else if (!uuidV7Pattern.test(eventId)) {
    throw new EventContractError(`event ${typeName} has event_id "${eventId}", which is not a UUIDv7`);
  }
  const occurredAt = schema.fields.find((f) => f.name === "occurred_at");
  if (occurredAt?.fieldKind === "message" && occurredAt.message.typeName === "google.protobuf.Timestamp" && fields[occurredAt.localName] === undefined) {
    fields[occurredAt.localName] = timestampNow();
  }

  return {
    sql: `insert into platform_outbox (event_id, subject, type_name, payload, headers) select ?, ?, ?, ?, ?${when ? ` where exists (select 1 from ${when})` : ""}`,
    params: [eventId, subject, typeName, Buffer.from(toBinary(schema, event)), JSON.stringify(traceHeaders(context.active()))],
    published: { eventId, subject },
  };
}
