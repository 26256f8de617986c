// The inbox: the ids of applied events per durable, written in the transaction of their effects, so a
// redelivery is recognised and applied once.
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { JsMsg } from "nats";
import type { Database, EntityManager } from "../data/database.ts";

export interface InboxEntry {
  eventId: string;
  subject: string;
  streamSequence: number;
}

/** Records `entries` for `durable` in `em`'s transaction; returns the ids that were not there yet. */
export async function recordInInbox(em: EntityManager, durable: string, entries: readonly InboxEntry[]): Promise<Set<string>> {
  const values = entries.map(() => "(?, ?, ?, ?)").join(", ");
  const params = entries.flatMap((e) => [durable, e.eventId, e.subject, e.streamSequence]);
  const rows = await em.execute<{ event_id: string }[]>(
    `insert into platform_inbox (consumer, event_id, subject, stream_sequence) values ${values} on conflict do nothing returning event_id`,
    params,
    "all",
  );
  return new Set(rows.map((row) => row.event_id));
}

/** Deletes `durable`'s inbox rows older than `retentionMs`. */
export async function pruneInbox(database: Database, durable: string, retentionMs: number): Promise<void> {
  await database.em().execute("delete from platform_inbox where consumer = ? and processed_at < clock_timestamp() - make_interval(secs => ?)", [
    durable,
    retentionMs / 1000,
  ]);
}

/** The id an event is recorded under: its event_id, else its Nats-Msg-Id, else its stream position. */
export function eventIdOf(event: MessageShape<DescMessage>, message: JsMsg): string {
  const id = (event as unknown as Record<string, unknown>).eventId;
  if (typeof id === "string" && id !== "") return id;
  return message.headers?.get("Nats-Msg-Id") || `${message.info.stream}:${message.info.streamSequence}`;
}
