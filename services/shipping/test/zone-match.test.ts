// The most-specific-match rule, as plain functions.
import test from "ava";
import { mostSpecific, normalizeDestination, type Area } from "../src/zone-match.ts";

const area = (countryCode: string, region = "", postalPrefix = ""): Area & { name: string } => ({
  countryCode,
  region,
  postalPrefix,
  name: [countryCode, region, postalPrefix].join("/"),
});
const areas = [area("US"), area("US", "CA"), area("US", "", "9"), area("US", "", "941"), area("US", "CA", "941"), area("GB"), area("GB", "", "BT")];
const winner = (countryCode: string, region: string, postalCode: string) =>
  mostSpecific(areas, normalizeDestination({ countryCode, region, postalCode }))?.name;

test("a country-only area matches any destination in the country", (t) => {
  t.is(winner("US", "NY", "10001"), "US//");
  t.is(winner("GB", "", "SW1A 1AA"), "GB//");
});

test("a region beats the bare country; a longer postal prefix beats a region and a shorter prefix", (t) => {
  t.is(winner("US", "CA", "90001"), "US//9", "prefix 9 (one character) beats region CA");
  t.is(winner("US", "CA", "10001"), "US/CA/", "region beats country when no prefix matches");
  t.is(winner("US", "WA", "94103"), "US//941", "the longer prefix wins");
  t.is(winner("US", "CA", "94103"), "US/CA/941", "same prefix: the one with the region wins");
});

test("regions and postal codes match however they are written", (t) => {
  t.is(winner("us", "us-ca", "10001"), "US/CA/");
  t.is(winner("GB", "", "bt1 1aa"), "GB//BT");
});

test("a destination in no area matches nothing", (t) => {
  t.is(winner("FR", "", "75001"), undefined);
});
