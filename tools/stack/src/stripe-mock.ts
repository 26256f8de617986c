// stripe-mock (Stripe's own API mock) for the payment service's Stripe gateway tests: STRIPE_MOCK_BIN,
// or the cached build, or a new build from the Go module proxy (once, seconds).
import { scriptBuiltBinary } from "./binaries.ts";
import type { StackSettings } from "./settings.ts";

export function stripeMockBinary(settings: StackSettings): Promise<string> {
  return scriptBuiltBinary(settings.root, settings.cacheDir, {
    name: "stripe-mock",
    script: "build-stripe-mock.sh",
    envVar: "STRIPE_MOCK_BIN",
    instead: "install Go >= 1.21, or set STRIPE_MOCK_BIN",
  });
}
