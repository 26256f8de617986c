// Background work on a timer: one run at a time, failures logged and retried, stop waits for the run.
import test from "ava";
import { drainBatches, startPeriodic } from "../src/periodic.ts";
import { capturingLogger as capture, eventually } from "../src/testing.ts";

test("runNow joins the run under way instead of starting a second one", async (t) => {
  const { logger } = capture();
  let runs = 0;
  let release!: () => void;
  const periodic = startPeriodic({
    intervalMs: 60_000,
    logger,
    what: "test work",
    run: async () => {
      runs++;
      await new Promise<void>((resolve) => (release = resolve));
      return runs;
    },
  });
  t.teardown(() => periodic.stop());
  const first = periodic.runNow();
  const second = periodic.runNow();
  release();
  t.deepEqual(await Promise.all([first, second]), [1, 1]);
  t.is(runs, 1);
});

test("a failed run is logged and the work runs again on the next tick", async (t) => {
  const { logger, lines } = capture();
  let runs = 0;
  const periodic = startPeriodic({
    intervalMs: 20,
    firstRunMs: 0,
    logger,
    what: "flaky work",
    run: async () => {
      runs++;
      if (runs === 1) throw new Error("first run fails");
      return runs;
    },
  });
  t.teardown(() => periodic.stop());
  await eventually("a second run", () => runs >= 2);
  t.true(lines.some((line) => line.msg === "flaky work failed; retrying"));
});

test("stop waits for the run under way and no run starts after it", async (t) => {
  const { logger } = capture();
  let runs = 0;
  let finished = false;
  const periodic = startPeriodic({
    intervalMs: 5,
    firstRunMs: 0,
    logger,
    what: "slow work",
    run: async (stopped) => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 50));
      finished = stopped();
      return runs;
    },
  });
  await eventually("the first run to start", () => runs === 1);
  await periodic.stop();
  t.true(finished, "the run under way ended (and saw stopped() turn true) before stop resolved");
  const after = runs;
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.is(runs, after);
});

test("drainBatches repeats full batches and stops at the first short one or when stopping", async (t) => {
  const sizes = [3, 3, 1, 3];
  t.is(await drainBatches(async () => sizes.shift()!, 3, () => false), 7);
  t.deepEqual(sizes, [3]);
  let calls = 0;
  t.is(await drainBatches(async () => (calls++, 3), 3, () => calls >= 2), 6);
});
