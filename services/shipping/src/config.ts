// Shipping's configuration: the platform's variables plus how long quotes hold, validated at start.
import { z } from "zod";
import { defaultsByMode, platformConfigSchema, secret } from "@bazaar/platform";

export const shippingConfigSchema = platformConfigSchema.extend({
  /** How long a quote holds: checkout refuses it after this. Long enough to fill in a payment form. */
  SHIPPING_QUOTE_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(30 * 60),
  /** Expired quotes are deleted after this much longer (kept a while to answer "expired", not "unknown"). */
  SHIPPING_QUOTE_RETENTION_SECONDS: z.coerce.number().int().min(0).max(90 * 24 * 3600).default(24 * 3600),
  /**
   * The HMAC-SHA256 key the test carrier signs its tracking webhook with (POST /webhooks/carrier/test);
   * the webhook is served only when set. Development mode has a local key; production has none.
   */
  SHIPPING_TEST_CARRIER_WEBHOOK_SECRET: secret(defaultsByMode(z.string().min(16).optional(), { development: "whsec_local_test_carrier" })),
  /** Oldest webhook timestamp accepted, in seconds; older deliveries (replays) are refused. */
  SHIPPING_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /**
   * Creates the default zones and methods (domestic, EU, rest of world) at start when they are missing
   * by name, so a fresh local stack ships at once. Development: on; production: off (staff set zones up).
   */
  SHIPPING_SEED_DEFAULTS: defaultsByMode(z.stringbool(), { development: "true", production: "false" }),
  /** Pause between sweeps of old quotes. */
  SHIPPING_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(10 * 60_000),
});

export type ShippingConfig = z.output<typeof shippingConfigSchema>;
