// Returns' configuration: the platform's variables plus the return window and the refund and restock reconcilers.
import { z } from "zod";
import { platformConfigSchema } from "@bazaar/platform";

export const returnsConfigSchema = platformConfigSchema.extend({
  /** Days after delivery within which a return may be requested. */
  RETURNS_WINDOW_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** How often refunds recorded as intended but not finished (a crash, payment down) are retried. */
  RETURNS_REFUND_RETRY_MS: z.coerce.number().int().min(50).max(3_600_000).default(5000),
  /** How often resellable units recorded as received but not confirmed by inventory (a crash, inventory down) are restocked. */
  RETURNS_RESTOCK_RETRY_MS: z.coerce.number().int().min(50).max(3_600_000).default(5000),
});

export type ReturnsConfig = z.output<typeof returnsConfigSchema>;
