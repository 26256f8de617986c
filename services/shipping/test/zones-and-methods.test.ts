// Zones and methods over gRPC against a real shipping service: overlap refusal, etags, bad input.
import test from "ava";
import { Code } from "@connectrpc/connect";
import { failure, freshCountries, shippingPerFile } from "./helpers.ts";

const shipping = shippingPerFile(test);

const flat = (currencyCode: string, price: bigint) => ({ currencyCode, rule: { case: "flatMinor" as const, value: price } });

test("an area already in a zone is refused as INVALID_ARGUMENT naming it and its zone; nothing is created", async (t) => {
  const { admin, sql } = shipping();
  const [a, b] = freshCountries(2);
  const { zone } = await admin.createShippingZone({ zone: { name: "First", areas: [{ countryCode: a! }, { countryCode: b!, region: "x1" }] } });
  t.deepEqual(zone!.areas.map((area) => [area.countryCode, area.region]), [[a, ""], [b, "X1"]]);

  const clash = await failure(
    admin.createShippingZone({ zone: { name: "Second", areas: [{ countryCode: b!, postalPrefix: "12" }, { countryCode: a! }, { countryCode: b!, region: "X1" }] } }),
  );
  t.is(clash.code, Code.InvalidArgument);
  t.is(clash.reason, "ZONE_AREA_TAKEN");
  t.deepEqual(clash.fields, ["zone.areas[1]", "zone.areas[2]"]);
  t.regex(clash.message, /First/);
  t.deepEqual(await sql("select id from shipping_zone where name = 'Second'"), []);

  // A more specific area in the same country is not an overlap: it wins where it applies.
  const narrower = await admin.createShippingZone({ zone: { name: "Narrower", areas: [{ countryCode: a!, postalPrefix: "1 2" }] } });
  t.deepEqual(narrower.zone!.areas.map((area) => area.postalPrefix), ["12"]);
});

test("zone input: every bad field at once, INVALID_ARGUMENT, nothing created", async (t) => {
  const { admin, sql } = shipping();
  const [a] = freshCountries(1);
  const bad = await failure(
    admin.createShippingZone({
      zone: { name: " ", areas: [{ countryCode: "ZZ" }, { countryCode: a!, region: "TOOLONG" }, { countryCode: a!, postalPrefix: "!!" }, { countryCode: a! }, { countryCode: a! }] },
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields.sort(), ["zone.areas[0].country_code", "zone.areas[1].region", "zone.areas[2].postal_prefix", "zone.areas[4]", "zone.name"]);
  t.deepEqual(await sql("select zone_id from shipping_zone_area where country_code = $1", [a]), [], "no area of the refused zone was stored");
  t.deepEqual((await failure(admin.createShippingZone({ zone: { name: "Empty", areas: [] } }))).fields, ["zone.areas"]);
});

test("updates carry an etag: a stale one is ABORTED (STALE_ETAG); unknown ids are NOT_FOUND", async (t) => {
  const { admin } = shipping();
  const [a, b] = freshCountries(2);
  const { zone } = await admin.createShippingZone({ zone: { name: "Before", areas: [{ countryCode: a! }] } });
  const renamed = await admin.updateShippingZone({ zone: { id: zone!.id, etag: zone!.etag, name: "After", areas: [{ countryCode: b! }] }, updateMask: { paths: ["name", "areas"] } });
  t.is(renamed.zone!.name, "After");
  t.deepEqual(renamed.zone!.areas.map((area) => area.countryCode), [b]);
  t.not(renamed.zone!.etag, zone!.etag);
  const stale = await failure(admin.updateShippingZone({ zone: { id: zone!.id, etag: zone!.etag, name: "Lost" }, updateMask: { paths: ["name"] } }));
  t.is(stale.code, Code.Aborted);
  t.is(stale.reason, "STALE_ETAG");
  t.is((await admin.getShippingZone({ id: zone!.id })).zone!.name, "After");

  const { method } = await admin.createShippingMethod({ method: { zoneId: zone!.id, code: "standard", name: "Standard", carrier: "test", serviceLevel: "ground", minDays: 2, maxDays: 4, active: true, rates: [flat("EUR", 500n)] } });
  const inverted = await failure(admin.updateShippingMethod({ method: { id: method!.id, minDays: 9 }, updateMask: { paths: ["min_days"] } }));
  t.is(inverted.code, Code.InvalidArgument, "min_days above the stored max_days");
  t.deepEqual(inverted.fields, ["method.min_days"]);
  const updated = await admin.updateShippingMethod({ method: { id: method!.id, etag: method!.etag, active: false }, updateMask: { paths: ["active"] } });
  t.false(updated.method!.active);
  t.is((await failure(admin.updateShippingMethod({ method: { id: method!.id, etag: method!.etag, active: true }, updateMask: { paths: ["active"] } }))).code, Code.Aborted);
  t.is((await failure(admin.getShippingZone({ id: "01890a5d-ac96-774b-bcce-b302099a8057" }))).code, Code.NotFound);
  const duplicate = await failure(
    admin.createShippingMethod({ method: { zoneId: zone!.id, code: "standard", name: "Again", carrier: "test", serviceLevel: "ground", minDays: 1, maxDays: 1, active: true, rates: [flat("EUR", 1n)] } }),
  );
  t.is(duplicate.code, Code.AlreadyExists);
  t.is(duplicate.reason, "METHOD_CODE_TAKEN");
});

test("method input: tiers that do not ascend, a rate without a price, a repeated currency and a bad estimate are named together", async (t) => {
  const { admin, sql } = shipping();
  const [a] = freshCountries(1);
  const { zone } = await admin.createShippingZone({ zone: { name: "Tiers", areas: [{ countryCode: a! }] } });
  const bad = await failure(
    admin.createShippingMethod({
      method: {
        zoneId: zone!.id,
        code: "Bad Code",
        name: "",
        carrier: "test",
        serviceLevel: "ground",
        minDays: 5,
        maxDays: 2,
        active: true,
        rates: [
          { currencyCode: "EUR", rule: { case: "byWeight", value: { tiers: [{ from: 0n, priceMinor: 100n }, { from: 500n, priceMinor: 200n }, { from: 500n, priceMinor: 300n }] } } },
          { currencyCode: "USD", rule: { case: "bySubtotal", value: { tiers: [{ from: 10n, priceMinor: -1n }] } } },
          { currencyCode: "EUR" },
          { currencyCode: "usd", rule: { case: "flatMinor", value: 1n } },
        ],
      },
    }),
  );
  t.is(bad.code, Code.InvalidArgument);
  t.deepEqual(bad.fields.sort(), [
    "method.code",
    "method.max_days",
    "method.name",
    "method.rates[0].by_weight.tiers[2].from",
    "method.rates[1].by_subtotal.tiers[0].from",
    "method.rates[1].by_subtotal.tiers[0].price_minor",
    "method.rates[2]",
    "method.rates[2].currency_code",
    "method.rates[3].currency_code",
  ]);
  t.deepEqual(await sql("select id from shipping_method where zone_id = $1", [zone!.id]), []);
});

test("zones and methods are for admins: a customer is PERMISSION_DENIED, an anonymous caller UNAUTHENTICATED", async (t) => {
  const { customer, anonymous, service_ } = shipping();
  t.is((await failure(customer.listShippingZones({}))).code, Code.PermissionDenied);
  t.is((await failure(service_.createShippingZone({ zone: { name: "X", areas: [{ countryCode: "US" }] } }))).code, Code.PermissionDenied);
  t.is((await failure(anonymous.listShippingMethods({}))).code, Code.Unauthenticated);
});
