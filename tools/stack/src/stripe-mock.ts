// stripe-mock (Stripe's own API mock) for the payment service's Stripe gateway tests: STRIPE_MOCK_BIN,
// or the cached build, or a new build from the Go module proxy (once, seconds).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { PrerequisiteError } from "./errors.ts";
import type { StackSettings } from "./settings.ts";

const run = promisify(execFile);

export async function stripeMockBinary(settings: StackSettings): Promise<string> {
  if (process.env.STRIPE_MOCK_BIN) return process.env.STRIPE_MOCK_BIN;
  try {
    const { stdout } = await run("bash", [path.join(settings.root, "scripts/build-stripe-mock.sh")], {
      env: { ...process.env, BAZAAR_CACHE: settings.cacheDir },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout.trim().split("\n").at(-1)!;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    const reason = stderr.trim().split("\n").at(-1) ?? String(error);
    throw new PrerequisiteError(`stripe-mock could not be built (${reason}): install Go >= 1.21, or set STRIPE_MOCK_BIN`);
  }
}
