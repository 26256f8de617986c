import type { MigrationObject } from "@mikro-orm/core";
import { PlatformOutboxInbox } from "./platform-0001-outbox-inbox.ts";

/**
 * The platform's own migrations (outbox, inbox), in order. createDatabase runs them ahead of the
 * service's own list, in the same migrations table and transaction. Names are explicit so that a
 * bundler renaming classes cannot make them run twice.
 */
export const platformMigrations: MigrationObject[] = [{ name: "platform_0001_outbox_inbox", class: PlatformOutboxInbox }];

/** Tables the platform owns in every service database: a service's schema diff must leave them alone. */
export const platformTables = ["platform_outbox", "platform_inbox"] as const;
