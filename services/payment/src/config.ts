// Payment's configuration: the platform's variables plus the gateway's, validated at start.
import { z } from "zod";
import { defaultsByMode, platformConfigSchema, secret } from "@bazaar/platform";

const stripeApiUrl = z
  .url()
  .refine((value) => /^https?:$/.test(new URL(value).protocol), "must be an http:// or https:// URL, e.g. http://127.0.0.1:12111 for stripe-mock");

export const paymentConfigSchema = platformConfigSchema
  .extend({
    /**
     * Which gateway moves the money: "test" (built in, deterministic test payment methods) or "stripe".
     * Defaults to "test" only with BAZAAR_ENV=development; in production it must be set, and "test" is refused.
     */
    PAYMENT_GATEWAY: defaultsByMode(z.enum(["test", "stripe"]), { development: "test" }),
    /** Stripe's secret API key (sk_…); required when PAYMENT_GATEWAY=stripe. */
    STRIPE_SECRET_KEY: secret(z.string().min(1).optional()),
    /** The signing secret of the Stripe webhook endpoint (whsec_…); required when PAYMENT_GATEWAY=stripe. */
    STRIPE_WEBHOOK_SECRET: secret(z.string().min(1).optional()),
    /** Another Stripe API base, e.g. stripe-mock's http://127.0.0.1:12111. Default: Stripe's own. */
    STRIPE_API_URL: stripeApiUrl.optional(),
    /** How long the test gateway's pm_test_slow takes to authorise. */
    PAYMENT_TEST_SLOW_MS: z.coerce.number().int().min(0).max(600_000).default(3000),
  })
  .superRefine((config, context) => {
    // The test gateway approves pm_test_ok without moving money: never in production.
    if (config.PAYMENT_GATEWAY === "test" && config.BAZAAR_ENV === "production") {
      context.addIssue({ code: "custom", path: ["PAYMENT_GATEWAY"], message: "the test gateway moves no money and is refused with BAZAAR_ENV=production" });
    }
    if (config.PAYMENT_GATEWAY !== "stripe") return;
    for (const variable of ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"] as const) {
      if (!config[variable]) context.addIssue({ code: "custom", path: [variable], message: "required when PAYMENT_GATEWAY=stripe" });
    }
  });

export type PaymentConfig = z.output<typeof paymentConfigSchema>;
