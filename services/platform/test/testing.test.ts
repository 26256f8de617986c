// @bazaar/platform/testing's own waiting helper: what a test sees when a condition never comes.
import test from "ava";
import { eventually } from "../src/testing.ts";

test("eventually returns the probe's first truthy value", async (t) => {
  let calls = 0;
  t.is(await eventually("the third call", () => (++calls >= 3 ? `call ${calls}` : undefined), 5_000, 1), "call 3");
});

test("eventually fails naming what it waited for and for how long; a label function is read at the timeout", async (t) => {
  await t.throwsAsync(eventually("the moon to turn blue", () => false, 30, 5), { message: "timed out after 30 ms waiting for the moon to turn blue" });
  let seen = 0;
  await t.throwsAsync(
    eventually(() => `a reply (seen ${seen})`, () => void seen++, 30, 5),
    { message: /^timed out after 30 ms waiting for a reply \(seen [1-9]\d*\)$/ },
  );
});

test("a probe that throws fails eventually at once, with its own error", async (t) => {
  let calls = 0;
  await t.throwsAsync(
    eventually("never", () => {
      calls++;
      throw new Error("probe broke");
    }),
    { message: "probe broke" },
  );
  t.is(calls, 1);
});
