// The notification service, declared: built from its config without listening, so tests start it on port 0.
import { createOpener, type Database, type ServiceDefinition } from "@bazaar/platform";
import { NotificationService } from "@bazaar/contracts/bazaar/notification/v1/notification_pb";
import { notificationMigrations } from "../migrations/index.ts";
import type { NotificationConfig } from "./config.ts";
import { eventDomains } from "./event-domains.ts";
import { notificationEntities } from "./entities.ts";
import { notificationHandlers } from "./handlers.ts";
import { identityConsumers } from "./identity-events.ts";
import { oneClickUnsubscribe } from "./one-click-unsubscribe.ts";
import { orderConsumers } from "./order-events.ts";
import { shippingConsumers } from "./shipping-events.ts";
import { returnsConsumers } from "./returns-events.ts";
import { createRecordingProvider } from "./recording-provider.ts";
import { createLinks } from "./links.ts";
import { createMessageQueue } from "./messages.ts";
import type { ChannelProvider } from "./providers.ts";
import { listenForQueued } from "./queued-signal.ts";
import { startSender } from "./sender.ts";
import { createSmtpProvider } from "./smtp-provider.ts";
import { loadTemplates } from "./templates.ts";
import { gatherPersonalData } from "./personal-data.ts";

export interface NotificationOptions {
  config: NotificationConfig;
  /** Consul name (and database bazaar_<name>). Default "notification"; tests use unique names. */
  name?: string;
}

export function notification(options: NotificationOptions): ServiceDefinition<Database> {
  const { config } = options;
  const name = options.name ?? "notification";
  return {
    name,
    version: "1.0.0",
    database: { entities: notificationEntities, migrations: notificationMigrations },
    consumes: eventDomains.consumes,
    async setup({ database, logger, registry }) {
      // A template that does not render stops the start here, not a send later.
      const templates = await loadTemplates();
      const opener = await createOpener(config.NOTIFICATION_SEALING_PRIVATE_KEY);
      const links = createLinks({ storefrontUrl: config.STOREFRONT_URL, secret: config.NOTIFICATION_LINK_SECRET, unsubscribeTtlDays: config.NOTIFICATION_UNSUBSCRIBE_TTL_DAYS, oneClickUrl: config.NOTIFICATION_ONE_CLICK_URL });
      const queue = createMessageQueue({ templates, links, maxAgeMs: config.NOTIFICATION_MAX_EVENT_AGE_HOURS * 3600_000 });
      const email: ChannelProvider = createSmtpProvider({ url: config.SMTP_URL, from: config.MAIL_FROM, replyTo: config.MAIL_REPLY_TO, maxConnections: config.NOTIFICATION_SEND_CONCURRENCY });
      return {
        routes: (router) => router.service(NotificationService, notificationHandlers({ database, templates, links })),
        personalData: gatherPersonalData(database),
        // RFC 8058 one-click unsubscribe (mail clients POST to the List-Unsubscribe URL).
        webhooks: { "/unsubscribe/one-click": oneClickUnsubscribe({ database, links }) },
        consumers: [
          ...identityConsumers({ name, queue, links }),
          ...orderConsumers({ name, queue, links, staffEmail: config.NOTIFICATION_STAFF_EMAIL }),
          ...shippingConsumers({ name, queue, links }),
          ...returnsConsumers({ name, queue, links }),
        ],
        background() {
          const sender = startSender({
            database,
            templates,
            // SMS and push: the recording development provider (the port for real ones: providers.ts).
            providers: { email, sms: createRecordingProvider({ channel: "sms", database }), push: createRecordingProvider({ channel: "push", database }) },
            opener,
            logger,
            registry,
            maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
            retryInitialMs: config.NOTIFICATION_RETRY_INITIAL_MS,
            retryMaxMs: config.NOTIFICATION_RETRY_MAX_MS,
            concurrency: config.NOTIFICATION_SEND_CONCURRENCY,
            pollMs: config.NOTIFICATION_POLL_MS,
          });
          const queued = listenForQueued({ url: database.url, onQueued: () => sender.wake(), logger });
          return [{ stop: async () => (await queued.stop(), await sender.stop(), await email.close()) }];
        },
      };
    },
  };
}
