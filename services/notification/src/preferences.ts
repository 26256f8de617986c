// A user's choices per topic and channel, and the language of their messages. Required topics (account
// security, orders) stay on whatever is asked (the table's CHECK says so too); marketing is off until
// opted in. An unsubscribe link turns one topic off on one channel, at once.
import { typedQueries, type Database, type EntityManager } from "@bazaar/platform";
import { notificationEntities } from "./entities.ts";
import type { Links, UnsubscribeClaim } from "./links.ts";
import { CHANNELS, defaultEnabled, isRequired, USER_TOPICS, type Channel, type UserTopic } from "./topics.ts";

export interface PreferenceView {
  topic: UserTopic;
  channel: Channel;
  enabled: boolean;
  changeable: boolean;
}

const tables = (em: EntityManager) => typedQueries(em, notificationEntities);

export async function preferencesOf(em: EntityManager, userId: string): Promise<{ preferences: PreferenceView[]; locale: string }> {
  const chosen = await tables(em).selectFrom("preference").select(["topic", "channel", "enabled"]).where("user_id", "=", userId).execute();
  const contact = await tables(em).selectFrom("contact").select("locale").where("user_id", "=", userId).executeTakeFirst();
  const choice = new Map(chosen.map((row) => [`${row.topic}/${row.channel}`, row.enabled]));
  const preferences = USER_TOPICS.flatMap((topic) =>
    CHANNELS.map((channel) => ({
      topic,
      channel,
      enabled: isRequired(topic, channel) || (choice.get(`${topic}/${channel}`) ?? defaultEnabled(topic, channel)),
      changeable: !isRequired(topic, channel),
    })),
  );
  return { preferences, locale: contact?.locale ?? "en" };
}

/** Records `enabled` for each topic and channel given (required topics are refused before this). */
export async function setPreferences(em: EntityManager, userId: string, changes: { topic: UserTopic; channel: Channel; enabled: boolean }[]): Promise<void> {
  for (const change of changes) {
    await tables(em)
      .insertInto("preference")
      .values({ user_id: userId, topic: change.topic, channel: change.channel, enabled: change.enabled })
      .onConflict((conflict) => conflict.columns(["user_id", "topic", "channel"]).doUpdateSet({ enabled: change.enabled, updated_at: new Date() }))
      .execute();
  }
}

export async function setLocale(em: EntityManager, userId: string, locale: string): Promise<void> {
  await tables(em)
    .insertInto("contact")
    .values({ user_id: userId, locale })
    .onConflict((conflict) => conflict.column("user_id").doUpdateSet({ locale, updated_at: new Date() }))
    .execute();
}

/**
 * Applies an unsubscribe link's token (from the RPC or a mail client's one-click POST): the topic and
 * channel it names are off from now on. Undefined, and nothing changed, for a forged, malformed or
 * expired token, or one naming what cannot be turned off.
 */
export async function unsubscribe(database: Database, links: Links, token: string): Promise<UnsubscribeClaim | undefined> {
  const claim = token.length <= 1000 ? links.readUnsubscribeToken(token) : undefined;
  if (!claim || !(USER_TOPICS as readonly string[]).includes(claim.topic) || !(CHANNELS as readonly string[]).includes(claim.channel) || isRequired(claim.topic, claim.channel)) {
    return undefined;
  }
  await database.transaction((em) => setPreferences(em, claim.userId, [{ topic: claim.topic, channel: claim.channel, enabled: false }]));
  return claim;
}
