// What tools and tests may import from promotion.
export { promotion, type PromotionOptions } from "./server.ts";
export { promotionConfigSchema, type PromotionConfig } from "./config.ts";
export { promotionEntities } from "./entities.ts";
export { promotionMigrations } from "../migrations/index.ts";
export { evaluate } from "./evaluation.ts";
export { allocate } from "./allocation.ts";
export type { Candidate, CartInput, Evaluation, PromotionRule } from "./rules.ts";
export { seedPromotions, type SeedPromotionsOptions } from "./seed.ts";
