// The order state machine as plain functions: every move of an order's life, and nothing else.
import test from "ava";
import { canTransition, checkTransition, isTerminal, statusFromWire, statusToWire, type Status } from "../src/order-status.ts";

const all: Status[] = ["PENDING", "CONFIRMED", "FULFILLING", "SHIPPED", "DELIVERED", "CANCELLED", "REJECTED", "REFUNDED"];
const allowed = new Set([
  "PENDING>CONFIRMED",
  "PENDING>REJECTED",
  "CONFIRMED>FULFILLING",
  "CONFIRMED>CANCELLED",
  "CONFIRMED>REFUNDED",
  "FULFILLING>SHIPPED",
  "FULFILLING>CANCELLED",
  "FULFILLING>REFUNDED",
  "SHIPPED>DELIVERED",
  "SHIPPED>REFUNDED",
  "DELIVERED>REFUNDED",
]);

test("exactly the moves of an order's life are allowed", (t) => {
  for (const from of all) {
    for (const to of all) {
      t.is(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} → ${to}`);
    }
  }
});

test("cancelled, rejected and refunded are terminal; the others are not", (t) => {
  t.deepEqual(
    all.filter((s) => isTerminal(s)),
    ["CANCELLED", "REJECTED", "REFUNDED"],
  );
});

test("an invalid move fails with reason INVALID_TRANSITION naming the order and both statuses", (t) => {
  const error = t.throws(() => checkTransition("SHIPPED", "CANCELLED", "o-1"));
  t.is((error as { reason?: string }).reason, "INVALID_TRANSITION");
  t.regex(error!.message, /o-1.*SHIPPED.*CANCELLED/);
  t.notThrows(() => checkTransition("CONFIRMED", "FULFILLING", "o-1"));
});

test("statuses round-trip through their wire enum", (t) => {
  for (const status of all) t.is(statusFromWire(statusToWire(status)), status);
  t.is(statusFromWire(0), undefined);
});
