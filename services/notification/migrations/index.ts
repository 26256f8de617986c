// Notification's committed migrations, in order. Frozen once written: add new ones at the end.
import type { MigrationEntry } from "@bazaar/platform";
import { NotificationSchema } from "./notification-0001-schema.ts";

export const notificationMigrations: MigrationEntry[] = [{ name: "notification_0001_schema", class: NotificationSchema }];
