// `npm test`: brings up the infrastructure the tests need (reusing what answers), runs ava over TAP,
// and ends with the plain line `N passed, N failed` that CI reads. Extra arguments go to ava.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import path from "node:path";
import { PrerequisiteError } from "./errors.ts";
import { ensureInfrastructure } from "./infrastructure.ts";
import { createSupervisor } from "./processes.ts";
import { stackSettings } from "./settings.ts";
import { stripeMockBinary } from "./stripe-mock.ts";
import { tally } from "./tap.ts";

const settings = stackSettings();
// Private instances' logs go to a file, so the test output stays the tests'.
mkdirSync(settings.stateDir, { recursive: true });
const infraLog = createWriteStream(path.join(settings.stateDir, "test-infrastructure.log"), { flags: "a" });
const supervisor = createSupervisor({ write: (line) => infraLog.write(`${line}\n`), colour: false });
let exitCode = 1;
try {
  const infra = await ensureInfrastructure(settings, supervisor);
  const stripeMock = await stripeMockBinary(settings);
  // ava exports no path to its CLI; it sits beside the main entry point.
  const ava = path.join(path.dirname(createRequire(import.meta.url).resolve("ava")), "cli.js");
  const child = spawn(process.execPath, [ava, "--tap", ...process.argv.slice(2)], {
    cwd: settings.root,
    env: { ...process.env, ...infra.env, STRIPE_MOCK_BIN: stripeMock },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const counts = tally();
  createInterface({ input: child.stdout }).on("line", (line) => {
    counts.add(line);
    process.stdout.write(`${line}\n`);
  });
  const code = await new Promise<number>((resolve) => child.once("exit", (c) => resolve(c ?? 1)));
  const { passed, skipped } = counts.result();
  // ava failing outside any test (bad config, a crashed worker) is a failure too.
  const failed = counts.result().failed || (code === 0 ? 0 : 1);
  exitCode = code === 0 && failed === 0 && passed > 0 ? 0 : 1;
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
} catch (error) {
  process.stderr.write(`test: ${error instanceof PrerequisiteError ? error.message : String(error)}\n`);
  process.stdout.write("0 passed, 1 failed\n");
} finally {
  await supervisor.stopAll();
}
process.exit(exitCode);
