// The order service's configuration: the platform's variables plus the saga's own, validated at start.
import { z } from "zod";
import { platformConfigSchema } from "@bazaar/platform";

const positiveInt = z.coerce.number().int().positive();

export const orderConfigSchema = platformConfigSchema.extend({
  /**
   * How long stock stays reserved for a checkout that never finishes: the last-resort release when
   * every driver of a saga is gone (inventory's sweeper expires the reservation).
   */
  ORDER_RESERVATION_TTL_SECONDS: positiveInt.max(24 * 3600).default(900),
  /** A driver owns a saga this long; after it, the recovery driver may take the saga over. */
  ORDER_SAGA_LEASE_MS: positiveInt.min(100).default(30_000),
  /** Pause between the recovery driver's scans for sagas whose lease expired. */
  ORDER_RECOVERY_INTERVAL_MS: positiveInt.default(1000),
  /** Idempotency keys are kept at least this long (Stripe: 24 h). */
  ORDER_IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().int().min(24).default(48),
  /**
   * Extra AuthorizePayment/CapturePayment attempts on UNAVAILABLE within one drive (and within the
   * request's deadline); after them the order stays PENDING for the recovery driver, never rejected.
   */
  ORDER_PAYMENT_UNAVAILABLE_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
});

export type OrderConfig = z.output<typeof orderConfigSchema>;
