// The pricing module as plain functions, and the config that can replace its tables.
import test from "ava";
import { ConfigError, loadConfig } from "@bazaar/platform";
import { testEnv } from "@bazaar/platform/testing";
import { cartConfigSchema } from "../src/config.ts";
import { computeTotals, createPricing, taxOn } from "../src/pricing.ts";

const line = (lineTotal: bigint, buyable = true) => ({ sku: "SKU-1", quantity: 1, lineTotal, buyable });

test("tax rounds half up to the minor unit", (t) => {
  t.is(taxOn(1000n, 725), 73n); // 72.5 → 73
  t.is(taxOn(1001n, 725), 73n); // 72.5725 → 73
  t.is(taxOn(993n, 725), 72n); // 71.99 → 72
  t.is(taxOn(2586n, 725), 187n); // 187.485 → 187
  t.is(taxOn(0n, 2000), 0n);
});

test("computeTotals sums only buyable lines and taxes the discounted subtotal plus shipping", (t) => {
  const bare = computeTotals([line(1000n), line(500n, false)], undefined, "USD");
  t.deepEqual(bare, { subtotal: 1000n, discount: 0n, shipping: 0n, tax: 0n, total: 1000n, taxRateBps: 0, shippingKnown: false });
  const shipped = computeTotals([line(1000n), line(2000n)], { price: 599n, taxRateBps: 2000 }, "EUR");
  t.deepEqual(shipped, { subtotal: 3000n, discount: 0n, shipping: 599n, tax: 720n, total: 4319n, taxRateBps: 2000, shippingKnown: true });
});

test("taxRateFor uses the region's rate when listed, else the country's, else zero", (t) => {
  const pricing = createPricing();
  t.is(pricing.taxRateFor("US", "CA"), 725);
  t.is(pricing.taxRateFor("US", "us-ny"), 400);
  t.is(pricing.taxRateFor("US", "OR"), 0);
  t.is(pricing.taxRateFor("GB", ""), 2000);
  t.is(pricing.taxRateFor("DE", "BY"), 1900);
  t.is(pricing.taxRateFor("BR", ""), 0);
});

test("shipping options: domestic vs international prices, standard free at home over the threshold, none in a currency without prices", (t) => {
  const pricing = createPricing({ homeCountry: "US" });
  t.deepEqual(pricing.shippingOptionsFor("US", "USD").map((o) => [o.id, o.price]), [["standard", 599n], ["express", 1499n]]);
  t.deepEqual(pricing.shippingOptionsFor("US", "USD", 5000n).map((o) => [o.id, o.price]), [["standard", 0n], ["express", 1499n]]);
  t.deepEqual(pricing.shippingOptionsFor("FR", "USD", 5000n).map((o) => [o.id, o.price]), [["standard", 1999n], ["express", 3999n]]);
  t.deepEqual(pricing.shippingOptionsFor("US", "JPY"), []);
  const { totals, option } = pricing.totalsFor([line(6000n)], "USD", { countryCode: "US", region: "TX", shippingOptionId: "standard" });
  t.is(option?.price, 0n);
  t.is(totals.tax, 375n);
  t.is(pricing.totalsFor([line(6000n)], "USD", { countryCode: "US", region: "", shippingOptionId: "drone" }).option, undefined);
});

test("the config replaces the tables from JSON and fails fast naming the variable and the bad entry", (t) => {
  const config = loadConfig(cartConfigSchema, {
    ...testEnv,
    CART_TAX_RATES: '{"GB": 1750}',
    CART_SHIPPING_RATES: '[{"id": "post", "name": "Post", "international": {"minDays": 5, "maxDays": 9, "prices": {"USD": 900}}}]',
    CART_CURRENCIES: "USD, GBP",
  });
  t.deepEqual(config.CART_CURRENCIES, ["USD", "GBP"]);
  const pricing = createPricing({ homeCountry: config.CART_HOME_COUNTRY, shippingRates: config.CART_SHIPPING_RATES!, taxRates: config.CART_TAX_RATES! });
  t.is(pricing.taxRateFor("GB", ""), 1750);
  t.is(pricing.taxRateFor("DE", ""), 0);
  t.deepEqual(pricing.shippingOptionsFor("GB", "USD").map((o) => [o.id, o.displayName, o.price]), [["post", "Post (5–9 days)", 900n]]);

  const error = t.throws(() =>
    loadConfig(cartConfigSchema, {
      ...testEnv,
      CART_TAX_RATES: '{"GB": 20.5}',
      CART_SHIPPING_RATES: "[{",
    }),
  );
  t.true(error instanceof ConfigError);
  const problems = (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`).join("\n");
  t.regex(problems, /CART_TAX_RATES: .*GB/);
  t.regex(problems, /CART_SHIPPING_RATES: must be JSON/);
  const currency = t.throws(() => loadConfig(cartConfigSchema, { ...testEnv, CART_DEFAULT_CURRENCY: "GBP" })) as ConfigError;
  t.deepEqual(currency.problems.map((p) => p.variable), ["CART_DEFAULT_CURRENCY"]);
  t.regex(currency.message, /must be one of CART_CURRENCIES \(USD, EUR\)/);
});
