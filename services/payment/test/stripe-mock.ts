// stripe-mock (Stripe's API mock) for the Stripe gateway tests, on free ports, with fixtures that say
// how its PaymentIntents answer. Built by scripts/build-stripe-mock.sh; a missing binary fails loudly.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

export function stripeMockBinary(): string {
  const cache = process.env.BAZAAR_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), ".cache"), "bazaar");
  const binary = process.env.STRIPE_MOCK_BIN ?? path.join(cache, "bin", "stripe-mock");
  if (!existsSync(binary)) {
    throw new Error(`stripe-mock not found at ${binary}: build it with scripts/build-stripe-mock.sh (needs Go), or set STRIPE_MOCK_BIN`);
  }
  return binary;
}

export interface StripeMock {
  /** http://127.0.0.1:<port>, for STRIPE_API_URL. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts stripe-mock whose PaymentIntents come back in `intentStatus` (stripe-mock keeps no state: it
 * answers every request from its fixtures, echoing the request's own parameters).
 */
export async function startStripeMock(options: { intentStatus: "requires_capture" | "processing" }): Promise<StripeMock> {
  const binary = stripeMockBinary();
  const dir = mkdtempSync(path.join(tmpdir(), "stripe-mock-"));
  const fixtures = path.join(dir, "fixtures.json");
  writeFileSync(fixtures, JSON.stringify({ resources: { payment_intent: paymentIntent(options.intentStatus), refund } }));
  const child = spawn(binary, ["-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0", "-fixtures", fixtures], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("stripe-mock did not start listening within 30 s")), 30_000);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`stripe-mock exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const match = /Listening for HTTP at address: (\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    });
    child.stderr!.resume();
  });
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function paymentIntent(status: string) {
  return {
    id: "pi_fixture",
    object: "payment_intent",
    amount: 1099,
    amount_capturable: status === "requires_capture" ? 1099 : 0,
    amount_received: 0,
    capture_method: "manual",
    client_secret: "pi_fixture_secret_x",
    confirmation_method: "automatic",
    created: 1_700_000_000,
    currency: "eur",
    customer: null,
    description: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: {},
    next_action: null,
    payment_method: null,
    payment_method_types: ["card"],
    receipt_email: null,
    status,
  };
}

const refund = {
  id: "re_fixture",
  object: "refund",
  amount: 100,
  charge: null,
  created: 1_700_000_000,
  currency: "eur",
  metadata: {},
  payment_intent: null,
  reason: null,
  status: "succeeded",
};
