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
import { jaegerBinary } from "./jaeger.ts";
import { mailpitBinary } from "./mailpit.ts";
import { stripeMockBinary } from "./stripe-mock.ts";
import { buildStorefront } from "./storefront.ts";
import { tally } from "./tap.ts";
import { aloneTestFiles, otherTestFiles } from "./test-files.ts";

const settings = stackSettings();
// Private instances' logs go to a file, so the test output stays the tests'.
mkdirSync(settings.stateDir, { recursive: true });
const infraLog = createWriteStream(path.join(settings.stateDir, "test-infrastructure.log"), { flags: "a" });
const supervisor = createSupervisor({ write: (line) => infraLog.write(`${line}\n`), colour: false });
let exitCode = 1;
try {
  const infra = await ensureInfrastructure(settings, supervisor);
  const stripeMock = await stripeMockBinary(settings);
  // The storefront's browser tests load its built bundle through the edge.
  await buildStorefront(settings.root, (line) => process.stdout.write(`${line}\n`));
  // The notification tests start private Mailpits from it.
  const mailpit = await mailpitBinary(settings);
  // The tracing tests start private Jaegers from it.
  const jaeger = await jaegerBinary(settings);
  // ava exports no path to its CLI; it sits beside the main entry point.
  const ava = path.join(path.dirname(createRequire(import.meta.url).resolve("ava")), "cli.js");
  const env = { ...process.env, ...infra.env, STRIPE_MOCK_BIN: stripeMock, MAILPIT_BIN: mailpit, JAEGER_BIN: jaeger };
  const counts = tally();
  const runAva = (args: string[]) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [ava, "--tap", ...args], { cwd: settings.root, env, stdio: ["ignore", "pipe", "inherit"] });
      createInterface({ input: child.stdout }).on("line", (line) => {
        counts.add(line);
        process.stdout.write(`${line}\n`);
      });
      child.once("exit", (c) => resolve(c ?? 1));
    });
  const args = process.argv.slice(2);
  // Tests that take the whole machine (a mesh of every service, twice over) run after the others, one
  // at a time: beside other files they would compete for PostgreSQL's connections and the two cores.
  const alone = args.length === 0 ? aloneTestFiles(settings.root) : [];
  let code = await runAva(args.length === 0 && alone.length > 0 ? [...otherTestFiles(settings.root, alone)] : args);
  if (alone.length > 0) code = Math.max(code, await runAva(["--concurrency", "1", ...alone]));
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
