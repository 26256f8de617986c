// A user's download of their data, notification's part: where they are reached, their choices per
// topic and channel, and the messages sent to them — without the messages' template data, which holds
// sealed one-time tokens (verification, password reset) that are no one's to read back.
import { typedQueries, type Database, type GatherPersonalData } from "@bazaar/platform";
import { notificationEntities } from "./entities.ts";

export function gatherPersonalData(database: Database): GatherPersonalData {
  return async (userId) => {
    const tables = typedQueries(database.em(), notificationEntities);
    const contact = await tables.selectFrom("contact").select(["email", "display_name", "locale", "updated_at"]).where("user_id", "=", userId).executeTakeFirst();
    const preferences = await tables.selectFrom("preference").select(["topic", "channel", "enabled", "updated_at"]).where("user_id", "=", userId).orderBy("topic").orderBy("channel").execute();
    const messages = await tables
      .selectFrom("message")
      .select(["id", "channel", "recipient", "template", "topic", "subject", "status", "created_at", "sent_at"])
      .where("user_id", "=", userId)
      .orderBy("id")
      .execute();
    return { contact: contact ?? null, preferences, messages };
  };
}
