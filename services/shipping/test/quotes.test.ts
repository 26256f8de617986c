// QuoteShipping and CheckShippingQuote against a real shipping service: the most specific zone wins,
// tiers and thresholds at their boundaries, currencies without a price, expiry, tampering, bad input.
import test from "ava";
import { Code } from "@connectrpc/connect";
import { eventually, failure, freshCountries, shippingPerFile, type Harness } from "./helpers.ts";

// Sweeps often, keeping expired quotes a minute (the expiry test's quote, expired a second ago, stays).
const shipping = shippingPerFile(test, { SHIPPING_SWEEP_INTERVAL_MS: "100", SHIPPING_QUOTE_RETENTION_SECONDS: "60" });

const eur = (amountMinor: bigint) => ({ amountMinor, currencyCode: "EUR" });

/** A zone with a weight-tiered "standard" (EUR only, free from 50.00) and a flat "express" (EUR and USD). */
async function zoneWithMethods(h: Harness, name: string, areas: { countryCode: string; region?: string; postalPrefix?: string }[]) {
  const { zone } = await h.admin.createShippingZone({ zone: { name, areas } });
  await h.admin.createShippingMethod({
    method: {
      zoneId: zone!.id,
      code: "standard",
      name: "Standard",
      carrier: "test",
      serviceLevel: "ground",
      minDays: 3,
      maxDays: 5,
      active: true,
      rates: [
        {
          currencyCode: "EUR",
          rule: { case: "byWeight", value: { tiers: [{ from: 0n, priceMinor: 500n }, { from: 1000n, priceMinor: 900n }], max: 20_000n } },
          freeOverMinor: 5000n,
        },
      ],
    },
  });
  await h.admin.createShippingMethod({
    method: {
      zoneId: zone!.id,
      code: "express",
      name: "Express",
      carrier: "test",
      serviceLevel: "express",
      minDays: 1,
      maxDays: 1,
      active: true,
      rates: [
        { currencyCode: "EUR", rule: { case: "flatMinor", value: 1500n } },
        { currencyCode: "USD", rule: { case: "flatMinor", value: 1700n } },
      ],
    },
  });
  return zone!;
}

const line = (weightGrams: bigint, quantity = 1, sku = "SKU-1") => ({ sku, quantity, weightGrams });

test("the most specific zone wins: postal prefix over region over country", async (t) => {
  const h = shipping();
  const [c] = freshCountries(1);
  const country = await zoneWithMethods(h, "Country", [{ countryCode: c! }]);
  const region = await zoneWithMethods(h, "Region", [{ countryCode: c!, region: "R1" }]);
  const prefix = await zoneWithMethods(h, "Prefix", [{ countryCode: c!, postalPrefix: "77" }]);
  const zoneOf = async (destination: { region?: string; postalCode?: string }) =>
    (await h.service_.quoteShipping({ destination: { countryCode: c!, ...destination }, lines: [], subtotal: eur(100n) })).quote!.zoneId;
  t.is(await zoneOf({ postalCode: "12345" }), country.id);
  t.is(await zoneOf({ region: `${c}-r1`, postalCode: "12345" }), region.id);
  t.is(await zoneOf({ region: "R1", postalCode: "77 001" }), prefix.id);
  const nowhere = (await h.service_.quoteShipping({ destination: { countryCode: "AQ" }, lines: [], subtotal: eur(100n) })).quote!;
  t.is(nowhere.zoneId, "");
  t.deepEqual(nowhere.options, []);
});

test("weight tiers at the boundary, free over the threshold, and no option in a currency without a price", async (t) => {
  const h = shipping();
  const [c] = freshCountries(1);
  await zoneWithMethods(h, "Tiers", [{ countryCode: c! }]);
  const quote = async (lines: ReturnType<typeof line>[], subtotal: bigint, currencyCode = "EUR") =>
    (await h.service_.quoteShipping({ destination: { countryCode: c! }, lines, subtotal: { amountMinor: subtotal, currencyCode } })).quote!;
  const prices = (q: Awaited<ReturnType<typeof quote>>) => Object.fromEntries(q.options.map((o) => [o.optionId, o.price!.amountMinor]));

  const under = await quote([line(333n, 3)], 4999n);
  t.is(under.totalWeightGrams, 999n);
  t.deepEqual(prices(under), { standard: 500n, express: 1500n });
  t.is(under.options[0]!.displayName, "Standard (3–5 days)", "cheapest first");
  t.deepEqual(prices(await quote([line(1000n)], 4999n)), { standard: 900n, express: 1500n });
  t.deepEqual(prices(await quote([line(1000n)], 5000n)), { standard: 0n, express: 1500n });
  t.deepEqual(prices(await quote([line(20_001n)], 100n)), { express: 1500n }, "over the tiers' max the method is not offered");
  t.deepEqual(prices(await quote([line(100n)], 100n, "USD")), { express: 1700n }, "standard has no USD price");
});

test("a quote holds at checkout only for what it was made for; the price comes from the stored quote", async (t) => {
  const h = shipping();
  const [c] = freshCountries(1);
  const zone = await zoneWithMethods(h, "Checkout", [{ countryCode: c! }]);
  const request = { destination: { countryCode: c!, postalCode: "1000" }, lines: [line(400n, 2, "SKU-A"), line(100n, 1, "SKU-B")], subtotal: eur(3000n) };
  const { quote } = await h.service_.quoteShipping(request);
  const check = (overrides: Partial<typeof request> & { quoteId?: string; optionId?: string }) =>
    h.service_.checkShippingQuote({ quoteId: quote!.id, optionId: "standard", ...request, ...overrides });

  // Same facts in another line order: holds, at the quoted price.
  const held = await check({ lines: [...request.lines].reverse() });
  t.is(held.option!.price!.amountMinor, 500n);
  t.is(held.option!.optionId, "standard");

  // The rates change after the quote: the quote's price still holds.
  await h.sql("update shipping_method set rates = jsonb_set(rates, '{0,rule,tiers,0,price}', '9999') where code = 'standard' and zone_id = $1", [zone.id]);
  t.is((await check({})).option!.price!.amountMinor, 500n);

  const tampered: [string, Partial<typeof request>][] = [
    ["more items", { lines: [line(400n, 3, "SKU-A"), line(100n, 1, "SKU-B")] }],
    ["another destination", { destination: { countryCode: c!, postalCode: "2000" } }],
    ["another subtotal", { subtotal: eur(2999n) }],
    ["another currency", { subtotal: { amountMinor: 3000n, currencyCode: "USD" } }],
  ];
  for (const [what, overrides] of tampered) {
    const refused = await failure(check(overrides));
    t.is(refused.code, Code.FailedPrecondition, what);
    t.is(refused.reason, "QUOTE_MISMATCH", what);
  }
  t.is((await failure(check({ optionId: "teleport" }))).reason, "QUOTE_OPTION_NOT_OFFERED");
  t.is((await failure(check({ quoteId: "01890a5d-ac96-774b-bcce-b302099a8057" }))).reason, "QUOTE_NOT_FOUND");

  await h.sql("update shipping_quote set expires_at = clock_timestamp() - interval '1 second' where id = $1", [quote!.id]);
  const expired = await failure(check({}));
  t.is(expired.code, Code.FailedPrecondition);
  t.is(expired.reason, "QUOTE_EXPIRED");
});

test("quote input: absurd weights, bad quantities, an unknown country and a bad currency are named together; nothing is stored", async (t) => {
  const h = shipping();
  const bad = await failure(
    h.service_.quoteShipping({
      destination: { countryCode: "ZZ", postalCode: "1".repeat(21) },
      lines: [line(-1n), line(1_000_001n), line(5n, 0), { sku: "bad sku", quantity: 1, weightGrams: 1n }],
      subtotal: { amountMinor: -5n, currencyCode: "eur" },
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields.sort(), [
    "destination.country_code",
    "destination.postal_code",
    "lines[0].weight_grams",
    "lines[1].weight_grams",
    "lines[2].quantity",
    "lines[3].sku",
    "subtotal.amount_minor",
    "subtotal.currency_code",
  ]);
  t.deepEqual(await h.sql("select id from shipping_quote where country_code = 'ZZ'"), [], "nothing stored for the refused request");
  t.deepEqual((await failure(h.service_.quoteShipping({ destination: { countryCode: "FR" }, lines: [] }))).fields, ["subtotal"]);
});

test("quotes are made by services and admins only", async (t) => {
  const h = shipping();
  const request = { destination: { countryCode: "FR" }, lines: [], subtotal: eur(1n) };
  t.is((await failure(h.customer.quoteShipping(request))).code, Code.PermissionDenied);
  t.is((await failure(h.anonymous.quoteShipping(request))).code, Code.Unauthenticated);
  t.truthy((await h.admin.quoteShipping(request)).quote!.id);
});

test("quotes expired longer than the retention are swept away in the background; live ones stay", async (t) => {
  const h = shipping();
  const request = { destination: { countryCode: "FR" }, lines: [], subtotal: eur(1n) };
  const { quote: expired } = await h.service_.quoteShipping(request);
  const { quote: live } = await h.service_.quoteShipping(request);
  await h.sql("update shipping_quote set expires_at = clock_timestamp() - interval '2 minutes' where id = $1", [expired!.id]);
  await eventually("the expired quote swept", async () => (await h.sql("select id from shipping_quote where id = $1", [expired!.id])).length === 0);
  t.is((await h.admin.getShippingQuote({ id: live!.id })).quote!.id, live!.id);
  t.is((await failure(h.admin.getShippingQuote({ id: expired!.id }))).code, Code.NotFound);
});
