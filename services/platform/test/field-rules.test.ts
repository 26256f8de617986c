// The contracts' field rules, defined once in the platform: each accepts what the contract allows,
// refuses the rest naming the field, and a PostalAddress reports every bad field at once.
import test from "ava";
import {
  checkCountryCode,
  checkEmail,
  checkId,
  checkPageSize,
  checkPhone,
  checkPostalAddress,
  checkSku,
  checkText,
  checkUpdateMask,
  checkUuid,
  violations,
} from "@bazaar/platform";

const fieldsOf = (run: (v: ReturnType<typeof violations>) => void) => {
  const v = violations();
  run(v);
  return v.list.map((x) => x.field);
};

test("a UUID is required and canonical 8-4-4-4-12 hex", (t) => {
  t.deepEqual(fieldsOf((v) => checkUuid(v, "id", "0190a000-0000-7000-8000-000000000000")), []);
  t.deepEqual(fieldsOf((v) => checkUuid(v, "id", "0190A000-0000-7000-8000-00000000000F")), [], "either case");
  t.deepEqual(fieldsOf((v) => checkUuid(v, "id", "")), ["id"]);
  t.deepEqual(fieldsOf((v) => checkUuid(v, "id", "0190a000000070008000000000000000")), ["id"], "not without hyphens");
});

test("an id is a UUID by the same rule, returned in lower case", (t) => {
  const v = violations();
  t.is(checkId(v, "id", "0190A000-0000-7000-8000-00000000000F"), "0190a000-0000-7000-8000-00000000000f");
  t.deepEqual(v.list, []);
  t.deepEqual(fieldsOf((v) => checkId(v, "order_id", "")), ["order_id"]);
  t.deepEqual(fieldsOf((v) => checkId(v, "order_id", "not-a-uuid")), ["order_id"]);
});

test("a SKU is the catalog's: A–Z, 0–9, '.', '_', '-', 1–64, starting with a letter or digit", (t) => {
  for (const ok of ["B00933-BLACK", "A", "X.Y_Z-1", "9".repeat(64)]) t.deepEqual(fieldsOf((v) => checkSku(v, "sku", ok)), [], ok);
  for (const bad of ["", "sku-lower", "A/B", "-A", "A B", "9".repeat(65)]) t.deepEqual(fieldsOf((v) => checkSku(v, "sku", bad)), ["sku"], bad);
});

test("a country is an assigned ISO 3166-1 alpha-2 code: XX, UK and EU are not", (t) => {
  for (const ok of ["DE", "US", "GB", "JP"]) t.deepEqual(fieldsOf((v) => checkCountryCode(v, "c", ok)), [], ok);
  for (const bad of ["", "XX", "UK", "EU", "ZZ", "de", "DEU"]) t.deepEqual(fieldsOf((v) => checkCountryCode(v, "c", bad)), ["c"], bad);
});

test("email and phone: one syntax each", (t) => {
  t.deepEqual(fieldsOf((v) => checkEmail(v, "email", "ada@example.com")), []);
  t.deepEqual(fieldsOf((v) => checkEmail(v, "email", "")), [], "empty unless required");
  t.deepEqual(fieldsOf((v) => checkEmail(v, "email", "", { required: true })), ["email"]);
  for (const bad of ["not-an-email", "a@b", "a b@example.com", `${"a".repeat(250)}@example.com`]) t.deepEqual(fieldsOf((v) => checkEmail(v, "email", bad)), ["email"], bad);
  t.deepEqual(fieldsOf((v) => checkPhone(v, "phone", "")), []);
  t.deepEqual(fieldsOf((v) => checkPhone(v, "phone", "+4930123456")), []);
  for (const bad of ["4930123456", "+0123456", "+12345", "+1234567890123456"]) t.deepEqual(fieldsOf((v) => checkPhone(v, "phone", bad)), ["phone"], bad);
});

test("page size: 0 is the default, 1…max is itself, anything else is named", (t) => {
  const rule = { default: 20, max: 100 };
  const v = violations();
  t.is(checkPageSize(v, 0, rule), 20);
  t.is(checkPageSize(v, 100, rule), 100);
  t.deepEqual(v.list, []);
  checkPageSize(v, 101, rule);
  checkPageSize(v, -1, rule);
  t.deepEqual(v.list.map((x) => x.field), ["page_size", "page_size"]);
});

test("an update mask names at least one editable path, each unknown one reported", (t) => {
  const v = violations();
  t.deepEqual(checkUpdateMask(v, ["name", "name", "slug"], ["name", "slug"]), ["name", "slug"]);
  t.deepEqual(v.list, []);
  t.deepEqual(fieldsOf((w) => checkUpdateMask(w, [], ["name"])), ["update_mask"]);
  t.deepEqual(fieldsOf((w) => checkUpdateMask(w, ["name", "price", "id"], ["name"])), ["update_mask", "update_mask"]);
});

test("text: required when min > 0, bounded, no control characters unless allowed", (t) => {
  t.deepEqual(fieldsOf((v) => checkText(v, "t", "  ", { min: 1, max: 5 })), ["t"]);
  t.deepEqual(fieldsOf((v) => checkText(v, "t", "abcdef", { min: 0, max: 5 })), ["t"]);
  t.deepEqual(fieldsOf((v) => checkText(v, "t", "a\u0000", { min: 0, max: 5 })), ["t"]);
  t.deepEqual(fieldsOf((v) => checkText(v, "t", "a\nb", { min: 0, max: 5, allow: "\n" })), []);
  t.deepEqual(fieldsOf((v) => checkText(v, "t", "😀😀", { min: 0, max: 2, codePoints: true })), [], "code points, not UTF-16 units");
});

test("a PostalAddress reports every bad field with its path at once, and comes back normalised", (t) => {
  const v = violations();
  const bad = { recipientName: " ", line1: "x".repeat(201), line2: "", city: "C\u0007", region: "", postalCode: "x".repeat(21), countryCode: "XX", phone: "12" };
  t.is(checkPostalAddress(v, "shipping_address", bad), undefined);
  t.deepEqual(
    v.list.map((x) => x.field),
    ["recipient_name", "line1", "city", "postal_code", "country_code", "phone"].map((f) => `shipping_address.${f}`),
  );
  const w = violations();
  const good = { recipientName: " Ada ", line1: "1 Main St", line2: "", city: "Berlin", region: "", postalCode: "10115", countryCode: " de", phone: "" };
  t.deepEqual(checkPostalAddress(w, "address", good), { ...good, recipientName: "Ada", countryCode: "DE" });
  t.deepEqual(w.list, []);
  t.deepEqual(fieldsOf((x) => checkPostalAddress(x, "address", undefined)), ["address"]);
});
