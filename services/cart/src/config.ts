// The cart's configuration: the platform's variables plus what the shop sells in, how long carts
// live, and an optional JSON override of the built-in tax table — validated at start, so a
// bad table stops the service with a message naming the variable and the offending entry.
import { z } from "zod";
import { isCurrencyCode, platformConfigSchema } from "@bazaar/platform";
import { taxRatesSchema } from "./pricing.ts";

const seconds = z.coerce.number().int().positive();

const currencyList = z
  .string()
  .default("USD,EUR")
  .transform((value) => [...new Set(value.split(",").map((c) => c.trim()).filter((c) => c !== ""))])
  .pipe(z.array(z.string().refine(isCurrencyCode, "each currency must be an ISO 4217 code such as USD")).min(1, "must name at least one currency"));

/** A variable holding JSON that must satisfy `schema`; problems name the path inside the JSON. */
function jsonOf<T extends z.ZodType>(schema: T) {
  return z.string().transform((value, ctx): z.output<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `must be JSON (${(error as Error).message})` });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const where = (path: PropertyKey[]) => (path.length ? path.map(String).join(".") : "(top level)");
      ctx.addIssue({ code: "custom", message: result.error.issues.map((i) => `${where(i.path)}: ${i.message}`).join("; ") });
      return z.NEVER;
    }
    return result.data;
  });
}

export const cartConfigSchema = platformConfigSchema
  .extend({
    /** Currencies carts may be kept in, comma-separated ISO 4217 codes. */
    CART_CURRENCIES: currencyList,
    /** A new cart's currency when none is asked for; one of CART_CURRENCIES. */
    CART_DEFAULT_CURRENCY: z.string().refine(isCurrencyCode, "must be an ISO 4217 code such as USD").default("USD"),
    /** A guest cart not written to for this long expires. */
    CART_GUEST_TTL_SECONDS: seconds.default(7 * 24 * 3600),
    /** A signed-in user's cart not written to for this long expires. */
    CART_USER_TTL_SECONDS: seconds.default(60 * 24 * 3600),
    /** Pause between expiry sweeps. */
    CART_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).default(60_000),
    /** Replaces the built-in tax table: JSON {"GB": 2000, "US-CA": 725, …} in basis points. */
    CART_TAX_RATES: jsonOf(taxRatesSchema).optional(),
  })
  .superRefine((config, ctx) => {
    if (!config.CART_CURRENCIES.includes(config.CART_DEFAULT_CURRENCY)) {
      ctx.addIssue({ code: "custom", path: ["CART_DEFAULT_CURRENCY"], message: `must be one of CART_CURRENCIES (${config.CART_CURRENCIES.join(", ")})` });
    }
  });

export type CartConfig = z.output<typeof cartConfigSchema>;
