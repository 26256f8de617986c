// The command line of `npm run load`: every option, its default, and the refusals (a run must be
// bounded in time and requests, and aim at one http(s) address) — all before anything is sent.
import { parseArgs } from "node:util";
import { journeyNames, type JourneyName, type Weights } from "./journeys.ts";

export interface LoadOptions {
  /** The edge: every request goes to this origin (and path prefix), nowhere else. */
  baseUrl: URL;
  mode: { kind: "open"; rate: number; rampSeconds: number } | { kind: "closed"; users: number; thinkMs: number } | { kind: "knee"; startRate: number; stepRate: number; stepSeconds: number; maxRate: number; p95BoundMs: number };
  durationSeconds: number;
  maxRequests: number;
  /** Open loop: arrivals beyond this many journeys in flight are dropped (and counted), never queued. */
  maxInFlight: number;
  timeoutMs: number;
  weights: Weights;
  currencyCode: string;
  /** The JSON result; the chart goes next to it with `.html`. */
  out: string;
  /** Whether to draw the live progress line (default: when stdout is a terminal). */
  progress: boolean;
  seed: number;
}

export const defaultWeights: Weights = { browse: 10, search: 3, product: 5, addToCart: 2, viewCart: 3, checkout: 1 };

export const helpText = `npm run load -- [options]

Weighted shopper journeys through a Bazaar edge, over Connect JSON as the storefront sends it
(Connect GET for side-effect-free reads), guest checkout with the test gateway's pm_test_ok.

Target (every request goes to this address; redirects are refused, nothing is discovered):
  --url <url>              the edge's base URL (http or https)              default http://127.0.0.1:8080

Load shape (one of):
  --rate <n>               open loop: journeys started per second            default 10
  --ramp <s>               open loop: seconds to ramp from 0 to --rate       default 5
  --users <n>              closed loop: n shoppers, each starts its next journey when the last ends
  --think <ms>             closed loop: pause between a shopper's journeys   default 0
  --find-knee              ramp the rate in steps until p95 exceeds --p95 or errors exceed 1%;
                           reports the last rate that held (the knee)
  --start-rate <n>         find-knee: first step's rate                      default 5
  --step-rate <n>          find-knee: rate added per step                    default 5
  --step <s>               find-knee: seconds per step                       default 10
  --max-rate <n>           find-knee: stop after this rate                   default 200
  --p95 <ms>               find-knee: the p95 bound over all journeys        default 250

Bounds (a run always ends):
  --duration <s>           run time in seconds (1..86400)                    default 30
                           (find-knee: the whole search, across steps;     default 600)
  --max-requests <n>       stop after this many journeys (1..10000000)       default 1000000
  --max-in-flight <n>      open loop: journeys in flight before arrivals are dropped (counted) default 256
  --timeout <ms>           per request                                       default 10000

Journeys (weights are relative; 0 leaves a journey out):
  --weights <list>         e.g. browse=10,search=3,product=5,addToCart=2,viewCart=3,checkout=1 (the default)
  --currency <code>        the catalog's prices and the carts' currency      default USD

Output:
  --out <file.json>        the JSON result; the chart is written next to it as <file>.html
                           default load-<time>.json in the current directory
  --progress / --no-progress  the live line (rate, p50/p99, errors); default: when stdout is a terminal
  --seed <n>               the journey picker's random seed               default 1
  -h, --help               this text
`;

export class UsageError extends Error {}

function number(name: string, raw: string | undefined, fallback: number, min: number, max: number, integer = false): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function parseWeights(raw: string): Weights {
  const weights: Weights = { browse: 0, search: 0, product: 0, addToCart: 0, viewCart: 0, checkout: 0 };
  for (const part of raw.split(",").filter((p) => p.trim() !== "")) {
    const [name, value] = part.split("=").map((s) => s.trim());
    if (!journeyNames.includes(name as JourneyName)) throw new UsageError(`--weights: unknown journey "${name}" (known: ${journeyNames.join(", ")})`);
    weights[name as JourneyName] = number(`weights ${name}`, value, 0, 0, 1_000_000);
  }
  if (journeyNames.every((n) => weights[n] === 0)) throw new UsageError("--weights: at least one journey needs a weight above 0");
  return weights;
}

export function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an absolute http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must be http or https, got "${url.protocol}"`);
  if (url.username || url.password) throw new UsageError("--url must not carry credentials");
  if (url.search || url.hash) throw new UsageError("--url must not carry a query or fragment");
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/** The options, or "help"; throws UsageError naming the offending option. */
export function parseOptions(argv: string[], stdoutIsTerminal = false, now = new Date()): LoadOptions | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowNegative: true,
      options: {
        help: { type: "boolean", short: "h" },
        url: { type: "string" },
        rate: { type: "string" },
        ramp: { type: "string" },
        users: { type: "string" },
        think: { type: "string" },
        "find-knee": { type: "boolean" },
        "start-rate": { type: "string" },
        "step-rate": { type: "string" },
        step: { type: "string" },
        "max-rate": { type: "string" },
        p95: { type: "string" },
        duration: { type: "string" },
        "max-requests": { type: "string" },
        "max-in-flight": { type: "string" },
        timeout: { type: "string" },
        weights: { type: "string" },
        currency: { type: "string" },
        out: { type: "string" },
        progress: { type: "boolean" },
        seed: { type: "string" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  const shapes = [v.rate !== undefined || v.ramp !== undefined ? "--rate/--ramp" : "", v.users !== undefined || v.think !== undefined ? "--users/--think" : "", v["find-knee"] ? "--find-knee" : ""].filter(Boolean);
  if (shapes.length > 1) throw new UsageError(`choose one load shape, not ${shapes.join(" and ")}`);
  if (v.duration !== undefined && Number(v.duration) === 0) throw new UsageError("--duration 0 would be an unbounded run: give 1 to 86400 seconds");
  if (v["max-requests"] !== undefined && Number(v["max-requests"]) === 0) throw new UsageError("--max-requests 0 would be an unbounded run: give 1 to 10000000");

  const mode: LoadOptions["mode"] = v["find-knee"]
    ? {
        kind: "knee",
        startRate: number("start-rate", v["start-rate"], 5, 0.1, 100_000),
        stepRate: number("step-rate", v["step-rate"], 5, 0.1, 100_000),
        stepSeconds: number("step", v.step, 10, 1, 3600),
        maxRate: number("max-rate", v["max-rate"], 200, 0.1, 100_000),
        p95BoundMs: number("p95", v.p95, 250, 1, 600_000),
      }
    : v.users !== undefined || v.think !== undefined
      ? { kind: "closed", users: number("users", v.users, 1, 1, 10_000, true), thinkMs: number("think", v.think, 0, 0, 600_000) }
      : { kind: "open", rate: number("rate", v.rate, 10, 0.1, 100_000), rampSeconds: number("ramp", v.ramp, 5, 0, 86_400) };
  if (!v["find-knee"] && (v["start-rate"] ?? v["step-rate"] ?? v.step ?? v["max-rate"] ?? v.p95) !== undefined) {
    throw new UsageError("--start-rate, --step-rate, --step, --max-rate and --p95 go with --find-knee");
  }
  if (mode.kind === "knee" && mode.maxRate < mode.startRate) throw new UsageError("--max-rate must not be below --start-rate");

  const currencyCode = v.currency ?? "USD";
  if (!/^[A-Z]{3}$/.test(currencyCode)) throw new UsageError(`--currency must be a three-letter ISO code, got "${currencyCode}"`);
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return {
    baseUrl: parseBaseUrl(v.url ?? "http://127.0.0.1:8080"),
    mode,
    durationSeconds: number("duration", v.duration, mode.kind === "knee" ? 600 : 30, 1, 86_400),
    maxRequests: number("max-requests", v["max-requests"], 1_000_000, 1, 10_000_000, true),
    maxInFlight: number("max-in-flight", v["max-in-flight"], 256, 1, 100_000, true),
    timeoutMs: number("timeout", v.timeout, 10_000, 1, 600_000),
    weights: v.weights === undefined ? { ...defaultWeights } : parseWeights(v.weights),
    currencyCode,
    out: v.out ?? `load-${stamp}.json`,
    progress: v.progress ?? stdoutIsTerminal,
    seed: number("seed", v.seed, 1, 0, 2 ** 31, true),
  };
}
