// Drives a run: the catalog found first, then journeys at an open-loop rate (with its ramp, or the
// knee search's steps) or by N closed-loop shoppers, until the time or request bound; a run always
// ends, and waits for the journeys in flight (each call has its timeout).
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CatalogService } from "@bazaar/client";
import { createGuardedFetch } from "./guarded-fetch.ts";
import { createJourneyPicker, seededRandom } from "./journeys.ts";
import type { LoadOptions } from "./options.ts";
import { createRecorder, mergedSeconds, percentilesOf, type Recorder } from "./recorder.ts";
import { discoverCatalog, type ShopCatalog } from "./shop.ts";
import { createShopper, type Shopper } from "./shopper.ts";

export interface KneeStage {
  rate: number;
  /** Journeys ended per second in the stage. */
  achieved: number;
  p95Ms: number;
  errorRatio: number;
  held: boolean;
}

export interface KneeResult {
  /** The highest rate whose stage held (p95 within the bound, errors ≤ 1%); null if the first did not. */
  kneeRate: number | null;
  /** Why the search ended: a stage failed, the max rate held, or the time or request bound. */
  ended: "p95" | "errors" | "max-rate" | "bound";
  stages: KneeStage[];
}

export interface RunOutcome {
  recorder: Recorder;
  catalog: ShopCatalog;
  startedAt: Date;
  elapsedSeconds: number;
  /** Why the run stopped. */
  stoppedBy: "duration" | "max-requests" | "knee";
  knee?: KneeResult;
}

export interface RunHooks {
  /** Called about once a second while running (the live progress line). */
  onSecond?: (recorder: Recorder, elapsedSeconds: number) => void;
  /** A fetch to wrap instead of the global one (tests). */
  fetch?: typeof globalThis.fetch;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Arrivals per second at `t` seconds: a linear ramp from 0 to `rate`, then flat. */
export function rampRate(rate: number, rampSeconds: number, t: number): number {
  return rampSeconds > 0 && t < rampSeconds ? (rate * t) / rampSeconds : rate;
}

export async function runLoad(options: LoadOptions, hooks: RunHooks = {}): Promise<RunOutcome> {
  const fetch = createGuardedFetch(options.baseUrl, hooks.fetch);
  const baseUrl = options.baseUrl.href.replace(/\/$/, "");
  const catalogClient = createClient(CatalogService, createConnectTransport({ baseUrl, fetch, useHttpGet: true }));
  const catalog = await discoverCatalog(catalogClient, options.currencyCode).catch((error: unknown) => {
    throw new Error(`cannot read the shop's catalog at ${options.baseUrl.href}: ${describe(error)}`, { cause: error });
  });

  const random = seededRandom(options.seed);
  const pickJourney = createJourneyPicker(options.weights, random);
  const recorder = createRecorder();
  const startedAt = new Date();
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const deadline = options.durationSeconds;
  let started = 0;
  let stop: RunOutcome["stoppedBy"] | undefined;
  const inFlight = new Set<Promise<unknown>>();
  const idle: Shopper[] = [];
  const newShopper = () => createShopper({ baseUrl: options.baseUrl, fetch, catalog, currencyCode: options.currencyCode, timeoutMs: options.timeoutMs, random, recorder });
  const bounded = () => {
    if (stop) return true;
    if (elapsed() >= deadline) stop = "duration";
    else if (started >= options.maxRequests) stop = "max-requests";
    return stop !== undefined;
  };

  // Open loop (and the knee's steps): arrivals at rateAt(t), whatever the shop's answers do.
  async function openLoop(rateAt: (t: number) => number, until: () => boolean): Promise<void> {
    let due = 0;
    let last = elapsed();
    while (!bounded() && !until()) {
      const now = elapsed();
      due += rateAt(now) * (now - last);
      last = now;
      while (due >= 1 && !bounded()) {
        due -= 1;
        started += 1;
        if (inFlight.size >= options.maxInFlight) {
          recorder.dropped();
          continue;
        }
        const shopper = idle.pop() ?? newShopper();
        const running: Promise<unknown> = shopper.run(pickJourney()).finally(() => {
          inFlight.delete(running);
          idle.push(shopper);
        });
        inFlight.add(running);
      }
      await sleep(5);
    }
  }

  const ticker = setInterval(() => hooks.onSecond?.(recorder, elapsed()), 1000);
  let knee: KneeResult | undefined;
  try {
    if (options.mode.kind === "open") {
      const { rate, rampSeconds } = options.mode;
      await openLoop((t) => rampRate(rate, rampSeconds, t), () => false);
    } else if (options.mode.kind === "closed") {
      const { users, thinkMs } = options.mode;
      await Promise.all(
        Array.from({ length: users }, async () => {
          const shopper = newShopper();
          while (!bounded()) {
            started += 1;
            await shopper.run(pickJourney());
            if (thinkMs > 0) await sleep(thinkMs);
          }
        }),
      );
    } else {
      knee = await findKnee(options.mode);
    }
  } finally {
    clearInterval(ticker);
    await Promise.all(inFlight);
  }
  return { recorder, catalog, startedAt, elapsedSeconds: elapsed(), stoppedBy: stop ?? "knee", knee };

  // Steps of constant rate; each is judged on the journeys that ended within it.
  async function findKnee(mode: Extract<LoadOptions["mode"], { kind: "knee" }>): Promise<KneeResult> {
    const stages: KneeStage[] = [];
    for (let rate = mode.startRate; rate <= mode.maxRate + 1e-9; rate += mode.stepRate) {
      const from = Math.ceil(elapsed());
      const end = from + mode.stepSeconds;
      await openLoop(() => rate, () => elapsed() >= end);
      if (stop) return { kneeRate: lastHeld(stages), ended: "bound", stages };
      // The journeys of this step still in flight belong to it.
      await Promise.all(inFlight);
      const s = mergedSeconds(recorder.seconds, from, Math.ceil(elapsed()));
      const p95Ms = percentilesOf(s.histogram).p95;
      const errorRatio = (s.errors + s.dropped) / Math.max(1, s.journeys + s.dropped);
      const stage = { rate, achieved: s.journeys / Math.max(1, Math.ceil(elapsed()) - from), p95Ms, errorRatio, held: p95Ms <= mode.p95BoundMs && errorRatio <= 0.01 };
      stages.push(stage);
      if (!stage.held) return { kneeRate: lastHeld(stages), ended: errorRatio > 0.01 ? "errors" : "p95", stages };
    }
    return { kneeRate: lastHeld(stages), ended: "max-rate", stages };
  }
}

function lastHeld(stages: KneeStage[]): number | null {
  const held = stages.filter((s) => s.held);
  return held.length > 0 ? held[held.length - 1]!.rate : null;
}

/** An error and what caused it ("fetch failed" alone does not say the port was closed). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error && parts.length < 4; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === "string" ? `${e.message} (${code})` : e.message);
  }
  return parts.length > 0 ? parts.join(": ") : String(error);
}
