// What tools and tests may import from returns.
export { returns, type ReturnsOptions } from "./server.ts";
export { returnsConfigSchema, type ReturnsConfig } from "./config.ts";
export { returnsEntities } from "./entities.ts";
export { returnsMigrations } from "../migrations/index.ts";
