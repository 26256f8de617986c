import test from "ava";
import { defaultWeights, helpText, parseOptions, UsageError, type LoadOptions } from "../src/options.ts";

const parse = (...argv: string[]) => parseOptions(argv) as LoadOptions;
const refused = (t: import("ava").ExecutionContext, argv: string[], message: RegExp) => {
  const error = t.throws(() => parseOptions(argv), { instanceOf: UsageError });
  t.regex(error!.message, message);
};

test("defaults: an open loop of 10/s with a 5 s ramp for 30 s at the local edge, the demo shops' weights", (t) => {
  const o = parse();
  t.deepEqual(o.mode, { kind: "open", rate: 10, rampSeconds: 5 });
  t.is(o.baseUrl.href, "http://127.0.0.1:8080/");
  t.is(o.durationSeconds, 30);
  t.is(o.maxRequests, 1_000_000);
  t.deepEqual(o.weights, { browse: 10, search: 3, product: 5, addToCart: 2, viewCart: 3, checkout: 1 });
  t.deepEqual(o.weights, defaultWeights);
  t.false(o.progress, "no live line when stdout is not a terminal");
  t.true(parseOptions([], true) !== "help" && (parseOptions([], true) as LoadOptions).progress, "a live line on a terminal");
  t.regex(o.out, /^load-\d{4}-\d\d-\d\dT.*\.json$/);
});

test("closed loop, find-knee and weights are parsed; a weight left out is 0", (t) => {
  t.deepEqual(parse("--users", "8", "--think", "100").mode, { kind: "closed", users: 8, thinkMs: 100 });
  t.is(parse("--find-knee").durationSeconds, 600, "a knee search gets ten minutes unless told");
  t.deepEqual(parse("--find-knee", "--start-rate", "2", "--step-rate", "3", "--step", "4", "--max-rate", "20", "--p95", "150").mode, { kind: "knee", startRate: 2, stepRate: 3, stepSeconds: 4, maxRate: 20, p95BoundMs: 150 });
  t.deepEqual(parse("--weights", "checkout=1,browse=4").weights, { browse: 4, search: 0, product: 0, addToCart: 0, viewCart: 0, checkout: 1 });
  t.is(parse("--url", "https://shop.example.com/api/").baseUrl.href, "https://shop.example.com/api");
  t.is(parseOptions(["--help"]), "help");
  t.is(parseOptions(["-h"]), "help");
});

test("a bad rate, users or weight is refused naming the option", (t) => {
  refused(t, ["--rate", "0"], /--rate must be a number from 0.1/);
  refused(t, ["--rate", "-5"], /--rate/);
  refused(t, ["--rate", "fast"], /--rate must be a number.*"fast"/);
  refused(t, ["--rate", ""], /--rate/);
  refused(t, ["--users", "2.5"], /--users must be an integer/);
  refused(t, ["--weights", "browse=1,teleport=3"], /unknown journey "teleport"/);
  refused(t, ["--weights", "browse=0"], /at least one journey/);
  refused(t, ["--weights", "browse=-1"], /--weights browse/);
  refused(t, ["--currency", "usd"], /--currency/);
  refused(t, ["--bogus"], /bogus/);
});

test("an unbounded or over-long run is refused", (t) => {
  refused(t, ["--duration", "0"], /unbounded/);
  refused(t, ["--max-requests", "0"], /unbounded/);
  refused(t, ["--duration", "Infinity"], /--duration must be a number from 1 to 86400/);
  refused(t, ["--duration", "100000"], /--duration/);
  refused(t, ["--max-requests", "1e9"], /--max-requests/);
});

test("mixed load shapes and knee options without --find-knee are refused", (t) => {
  refused(t, ["--rate", "5", "--users", "3"], /one load shape/);
  refused(t, ["--find-knee", "--rate", "5"], /one load shape/);
  refused(t, ["--p95", "100"], /go with --find-knee/);
  refused(t, ["--find-knee", "--start-rate", "10", "--max-rate", "5"], /--max-rate/);
});

test("the target must be one plain http(s) address", (t) => {
  refused(t, ["--url", "shop.example.com"], /absolute http\(s\) URL/);
  refused(t, ["--url", "ftp://shop.example.com"], /http or https/);
  refused(t, ["--url", "http://user:secret@shop.example.com"], /credentials/);
  refused(t, ["--url", "http://shop.example.com/?next=http://other"], /query/);
});

test("--help documents every option the parser accepts", (t) => {
  const options = ["url", "rate", "ramp", "users", "think", "find-knee", "start-rate", "step-rate", "step", "max-rate", "p95", "duration", "max-requests", "max-in-flight", "timeout", "weights", "currency", "out", "progress", "no-progress", "seed", "help"];
  for (const option of options) t.regex(helpText, new RegExp(`--${option}\\b`), option);
});
