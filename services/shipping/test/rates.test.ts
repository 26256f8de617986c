// Rate rules at their boundaries, as plain functions.
import test from "ava";
import { priceOf, type Rate } from "../src/rates.ts";

const byWeight: Rate = { currency: "EUR", rule: { kind: "weight", tiers: [{ from: 0, price: 500 }, { from: 1000, price: 900 }, { from: 5000, price: 1500 }], max: 30_000 } };
const bySubtotal: Rate = { currency: "EUR", rule: { kind: "subtotal", tiers: [{ from: 0, price: 800 }, { from: 2500, price: 400 }], max: 0 } };
const flatFreeOver: Rate = { currency: "EUR", rule: { kind: "flat", price: 599 }, freeOver: 5000 };
const parcel = (weightGrams: number, subtotal = 100) => ({ weightGrams: BigInt(weightGrams), subtotal: BigInt(subtotal) });

test("weight tiers: a tier's lower bound is inclusive", (t) => {
  t.is(priceOf(byWeight, parcel(0)), 500n);
  t.is(priceOf(byWeight, parcel(999)), 500n);
  t.is(priceOf(byWeight, parcel(1000)), 900n);
  t.is(priceOf(byWeight, parcel(4999)), 900n);
  t.is(priceOf(byWeight, parcel(5000)), 1500n);
});

test("weight tiers: up to max inclusive, not offered above it", (t) => {
  t.is(priceOf(byWeight, parcel(30_000)), 1500n);
  t.is(priceOf(byWeight, parcel(30_001)), undefined);
});

test("subtotal tiers price by the discounted subtotal", (t) => {
  t.is(priceOf(bySubtotal, parcel(0, 2499)), 800n);
  t.is(priceOf(bySubtotal, parcel(0, 2500)), 400n);
});

test("free over a threshold: free from exactly the threshold, charged one unit below", (t) => {
  t.is(priceOf(flatFreeOver, parcel(0, 4999)), 599n);
  t.is(priceOf(flatFreeOver, parcel(0, 5000)), 0n);
});
