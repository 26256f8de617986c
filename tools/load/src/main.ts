// `npm run load -- [options]`: parses the options (refusing an unbounded run or a bad target), runs
// the journeys, prints the per-step table and writes the JSON result and its chart.
import { helpText, parseOptions, UsageError, type LoadOptions } from "./options.ts";
import { progressLine } from "./progress.ts";
import { resultOf, summaryText } from "./report.ts";
import { writeResult } from "./output.ts";
import { runLoad } from "./run.ts";

async function main(argv: string[]): Promise<number> {
  let options: LoadOptions | "help";
  try {
    options = parseOptions(argv, process.stdout.isTTY === true);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`load: ${error.message}\n(npm run load -- --help lists the options)\n`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(helpText);
    return 0;
  }
  const o = options;
  process.stdout.write(`load: ${o.baseUrl.href} — ${JSON.stringify(o.mode)}, at most ${o.durationSeconds} s and ${o.maxRequests} journeys\n`);
  const outcome = await runLoad(o, {
    onSecond: o.progress ? (recorder, elapsed) => process.stdout.write(`\r\x1b[K${progressLine(recorder, elapsed, o.durationSeconds)}`) : undefined,
  });
  if (o.progress) process.stdout.write("\n");
  const result = resultOf(o, outcome);
  process.stdout.write(`${summaryText(result)}\n`);
  const written = writeResult(result, o.out);
  process.stdout.write(`result: ${written.json}\nchart:  ${written.chart}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`load: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
