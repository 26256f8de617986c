// The pricing module as plain functions, and the config that can replace its tax table.
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
  t.deepEqual(bare, { subtotal: 1000n, discount: 0n, shipping: 0n, tax: 0n, total: 1000n, taxRateBps: 0, shippingKnown: false, shippingDiscount: 0n });
  const shipped = computeTotals([line(1000n), line(2000n)], { price: 599n, taxRateBps: 2000 }, "EUR");
  t.deepEqual(shipped, { subtotal: 3000n, discount: 0n, shipping: 599n, tax: 720n, total: 4319n, taxRateBps: 2000, shippingKnown: true, shippingDiscount: 0n });
});

test("promotions: the discount comes off before tax, free shipping waives the option's price, and neither goes below zero", (t) => {
  const discounted = computeTotals([line(1000n), line(2000n)], { price: 599n, taxRateBps: 2000 }, "EUR", { lines: 300n, freeShipping: false });
  // tax = 20 % of (3000 − 300 + 599) = 659.8 → 660
  t.deepEqual([discounted.discount, discounted.shipping, discounted.tax, discounted.total], [300n, 599n, 660n, 3959n]);
  const freeShipping = computeTotals([line(1000n)], { price: 599n, taxRateBps: 2000 }, "EUR", { lines: 0n, freeShipping: true });
  t.deepEqual([freeShipping.shipping, freeShipping.shippingDiscount, freeShipping.tax, freeShipping.total], [0n, 599n, 200n, 1200n]);
  const over = computeTotals([line(1000n)], undefined, "EUR", { lines: 5000n, freeShipping: false });
  t.deepEqual([over.discount, over.total], [1000n, 0n]);
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

test("totalsFor adds the quoted option's price and the destination's tax; without an option shipping stays unknown", (t) => {
  const pricing = createPricing();
  const quoted = { id: "standard", displayName: "Standard (3–5 days)", price: 0n, minDays: 3, maxDays: 5 };
  const { totals, option } = pricing.totalsFor([line(6000n)], "USD", { countryCode: "US", region: "TX", option: quoted });
  t.is(option, quoted);
  t.is(totals.shipping, 0n);
  t.is(totals.tax, 375n);
  const unknown = pricing.totalsFor([line(6000n)], "USD", { countryCode: "US", region: "", option: undefined });
  t.is(unknown.option, undefined);
  t.false(unknown.totals.shippingKnown);
});

test("the config replaces the tax table from JSON and fails fast naming the variable and the bad entry", (t) => {
  const config = loadConfig(cartConfigSchema, {
    ...testEnv,
    CART_TAX_RATES: '{"GB": 1750}',
    CART_CURRENCIES: "USD, GBP",
  });
  t.deepEqual(config.CART_CURRENCIES, ["USD", "GBP"]);
  const pricing = createPricing({ taxRates: config.CART_TAX_RATES! });
  t.is(pricing.taxRateFor("GB", ""), 1750);
  t.is(pricing.taxRateFor("DE", ""), 0);

  const error = t.throws(() =>
    loadConfig(cartConfigSchema, {
      ...testEnv,
      CART_TAX_RATES: "[{",
    }),
  );
  t.true(error instanceof ConfigError);
  const problems = (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`).join("\n");
  t.regex(problems, /CART_TAX_RATES: must be JSON/);
  const rate = t.throws(() => loadConfig(cartConfigSchema, { ...testEnv, CART_TAX_RATES: '{"GB": 20.5}' })) as ConfigError;
  t.regex(rate.problems.map((p) => `${p.variable}: ${p.message}`).join(), /CART_TAX_RATES: .*GB/);
  const currency = t.throws(() => loadConfig(cartConfigSchema, { ...testEnv, CART_DEFAULT_CURRENCY: "GBP" })) as ConfigError;
  t.deepEqual(currency.problems.map((p) => p.variable), ["CART_DEFAULT_CURRENCY"]);
  t.regex(currency.message, /must be one of CART_CURRENCIES \(USD, EUR\)/);
});
