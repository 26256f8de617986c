// What tools and tests may import from notification.
export { notification, type NotificationOptions } from "./server.ts";
export { notificationConfigSchema, type NotificationConfig } from "./config.ts";
export { notificationEntities, notificationEntities as entities } from "./entities.ts";
export { notificationMigrations, notificationMigrations as migrations } from "../migrations/index.ts";
export { loadTemplates, TemplateError, type Templates } from "./templates.ts";
export { createLinks, type Links, type UnsubscribeClaim } from "./links.ts";
