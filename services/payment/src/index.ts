// What tools and tests may import from payment.
export { payment, type PaymentOptions } from "./server.ts";
export { paymentConfigSchema, type PaymentConfig } from "./config.ts";
export { paymentEntities } from "./entities.ts";
export { paymentMigrations } from "../migrations/index.ts";
export { gatewayKeys, GatewayRejectedError, GatewayUnavailableError, type PaymentGateway } from "./gateway.ts";
