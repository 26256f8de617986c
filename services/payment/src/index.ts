// What tools and tests may import from payment.
export { payment, type PaymentOptions } from "./server.ts";
export { paymentConfigSchema, type PaymentConfig } from "./config.ts";
export { paymentEntities, paymentEntities as entities } from "./entities.ts";
export { paymentMigrations, paymentMigrations as migrations } from "../migrations/index.ts";
export { gatewayKeys, GatewayRejectedError, GatewayUnavailableError, type PaymentGateway } from "./gateway.ts";
