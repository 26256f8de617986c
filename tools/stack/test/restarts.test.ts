// `npm start` brings back a process that ends on its own, with backoff, as an orchestrator would; a stop
// (Ctrl-C) ends everything and restarts nothing.
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { createBackoff, createSupervisor, waitFor } from "../src/index.ts";
import { alive } from "./fixtures/processes.ts";

/** The platform's `eventually(what, probe)`, on the stack's own waitFor: this package sits below the platform. */
const eventually = (what: string, probe: () => boolean, timeoutMs = 30_000) => waitFor(async () => probe(), { what, timeoutMs, intervalMs: 20 });

/** A tiny child: prints "up <pid>", then exits with `exitCode` at once, or runs until a signal. */
function child(behaviour: { exitCode?: number; onSigterm?: number }): { command: string; args: string[] } {
  const script = [
    // Before "up": a SIGTERM sent once the test reads "up" must find the handler in place.
    behaviour.onSigterm === undefined ? "" : `process.on("SIGTERM", () => process.exit(${behaviour.onSigterm}));`,
    // Written synchronously: console.log to a pipe may be lost when the process exits right after.
    `require("node:fs").writeSync(1, "up " + process.pid + "\\n");`,
    behaviour.exitCode === undefined ? "setInterval(() => {}, 1000);" : `process.exit(${behaviour.exitCode});`,
  ].join("\n");
  return { command: process.execPath, args: ["-e", script] };
}

test("the restart delay doubles from 0.5 s to at most 30 s and starts over after the process stayed up a while", (t) => {
  const backoff = createBackoff();
  const quick = Array.from({ length: 9 }, () => backoff.next(100));
  t.deepEqual(quick, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  t.is(backoff.next(60_000), 500, "a minute up resets the delay");
  t.is(backoff.next(59_999), 1000);
  t.throws(() => createBackoff({ initialDelayMs: 0 }), { instanceOf: RangeError });
});

test("a process that crashes is started again with a growing delay, and the log says so", async (t) => {
  const lines: string[] = [];
  const supervisor = createSupervisor({ write: (line) => lines.push(line), colour: false });
  t.teardown(() => supervisor.stopAll());
  const crasher = supervisor.start({ name: "crasher", ...child({ exitCode: 3 }), restart: { initialDelayMs: 50, maxDelayMs: 200, resetAfterMs: 60_000 } });

  const ups = () => lines.filter((line) => line.startsWith("crasher | up "));
  await eventually("four restarts", () => crasher.restarts >= 4 && ups().length >= 4);
  const said = lines.filter((line) => line.startsWith("stack | crasher"));
  t.deepEqual(said.slice(0, 4), [
    "stack | crasher exited with code 3: restarting in 0.05 s (restart 1)",
    "stack | crasher exited with code 3: restarting in 0.1 s (restart 2)",
    "stack | crasher exited with code 3: restarting in 0.2 s (restart 3)",
    "stack | crasher exited with code 3: restarting in 0.2 s (restart 4)",
  ]);
  t.is(new Set(ups().slice(0, 4)).size, 4, "each start is a new process");
  t.is(crasher.exitReason(), undefined, "not ended for good while it is being restarted");
  t.is(crasher.lastExit(), "exited with code 3");

  await supervisor.stopAll();
  const restarts = crasher.restarts;
  t.is(crasher.exitReason(), "exited with code 3");
  // Longer than any pending delay: a restart scheduled before the stop would have happened by now.
  await sleep(600);
  t.is(crasher.restarts, restarts, "nothing restarted after the stop");
});

test("a process stopped from outside (SIGTERM, as in a rolling restart) comes back; a supervisor stop restarts nothing", async (t) => {
  const lines: string[] = [];
  const supervisor = createSupervisor({ write: (line) => lines.push(line), colour: false });
  t.teardown(() => supervisor.stopAll());
  // Exits with 1 on SIGTERM: even a failing exit during the shutdown must not bring it back.
  const service = supervisor.start({ name: "service", ...child({ onSigterm: 1 }), restart: { initialDelayMs: 50 } });
  await eventually("the first start", () => lines.some((line) => line.startsWith("service | up ")));
  const first = service.pid;

  process.kill(first, "SIGTERM");
  await eventually("the replacement", () => service.restarts === 1 && lines.filter((line) => line.startsWith("service | up ")).length === 2);
  t.true(lines.includes("stack | service exited with code 1: restarting in 0.05 s (restart 1)"), lines.join("\n"));
  const second = service.pid;
  t.true(alive(second));

  await supervisor.stopAll();
  t.is(service.exitReason(), "exited with code 1");
  t.false(alive(second));
  await sleep(300); // six times the restart delay
  t.is(service.restarts, 1);
  t.is(lines.filter((line) => line.startsWith("service | up ")).length, 2);
});

test("a stop during the backoff cancels the pending restart", async (t) => {
  const supervisor = createSupervisor({ write: () => {}, colour: false });
  t.teardown(() => supervisor.stopAll());
  const crasher = supervisor.start({ name: "crasher", ...child({ exitCode: 5 }), restart: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
  await eventually("the first crash", () => crasher.restarts === 1);
  await crasher.stop();
  t.is(crasher.exitReason(), "exited with code 5");
  t.is(crasher.restarts, 1);
});

test("without a restart policy a process that ends stays down", async (t) => {
  const supervisor = createSupervisor({ write: () => {}, colour: false });
  t.teardown(() => supervisor.stopAll());
  const once = supervisor.start({ name: "once", ...child({ exitCode: 2 }) });
  await once.exited;
  t.is(once.exitReason(), "exited with code 2");
  t.is(once.restarts, 0);
});
