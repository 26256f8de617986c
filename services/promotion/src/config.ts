// Promotion's configuration: the platform's variables (it needs nothing of its own yet), validated at start.
import type { z } from "zod";
import { platformConfigSchema } from "@bazaar/platform";

export const promotionConfigSchema = platformConfigSchema;

export type PromotionConfig = z.output<typeof promotionConfigSchema>;
