// The development SMS and push provider: records what it would send (staff read it with
// ListProviderMessages) instead of sending it. A real provider implements the same ChannelProvider port
// (see the README: an SMS API, FCM or APNs) and is chosen in server.ts by configuration.
import { typedQueries, type Database } from "@bazaar/platform";
import { uuidv7 } from "uuidv7";
import { notificationEntities } from "./entities.ts";
import type { ChannelProvider } from "./providers.ts";
import type { Channel } from "./topics.ts";

export function createRecordingProvider(options: { channel: Exclude<Channel, "email">; database: Database }): ChannelProvider {
  return {
    channel: options.channel,
    async send(message) {
      const id = uuidv7();
      await options.database.transaction((em) =>
        typedQueries(em, notificationEntities).insertInto("provider_message").values({ id, channel: options.channel, recipient: message.recipient, body: message.short }).execute(),
      );
      return { providerMessageId: `recorded:${id}` };
    },
    close: () => undefined,
  };
}
