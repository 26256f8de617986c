// What tools may import from the order service: the definition, its config, data model and migrations.
export { order, type OrderOptions } from "./server.ts";
export { orderConfigSchema, type OrderConfig } from "./config.ts";
export { orderEntities, Order, OrderLine, OrderStatusChange, IdempotencyKey } from "./entities.ts";
export { orderMigrations } from "../migrations/index.ts";
export type { SagaSteps } from "./saga-steps.ts";
export type { Recovery } from "./recovery.ts";
