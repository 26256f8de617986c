// The delivery log: a user's own notifications, and all of them for staff, newest first (ids are
// UUIDv7), paged by keyset.
import { isUuid, keysetPage, typedQueries, type Database, type Keyset, type Page, type PageCursor } from "@bazaar/platform";
import { notificationEntities } from "./entities.ts";
import type { MessageStatus } from "./messages.ts";

export const LOG_ORDER: Keyset = { columns: ["id"], direction: "desc", valid: ([id]) => isUuid(id!) };

const columns = [
  "id",
  "event_id",
  "user_id",
  "channel",
  "recipient",
  "template",
  "locale",
  "subject",
  "status",
  "attempts",
  "provider_message_id",
  "last_error",
  "created_at",
  "sent_at",
] as const;

export async function listLog(database: Database, page: PageCursor, filter: { userId?: string; status?: MessageStatus }) {
  const select = typedQueries(database.em(), notificationEntities)
    .selectFrom("message")
    .select(columns)
    .$if(filter.userId !== undefined, (q) => q.where("user_id", "=", filter.userId!))
    .$if(filter.status !== undefined, (q) => q.where("status", "=", filter.status!));
  return keysetPage(select, page);
}

export type LogRow = Awaited<ReturnType<typeof listLog>> extends Page<infer Row> ? Row : never;
