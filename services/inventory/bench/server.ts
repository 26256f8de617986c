// The inventory service as its own process for the benchmark (so the load generator does not share its
// event loop): verifies tokens against the public key in BENCH_JWK and prints "port <n>" once serving.
import type { JWK } from "jose";
import { createService, createTokenVerifier, loadConfig, platformConfigSchema } from "@bazaar/platform";
import { inventory } from "../src/index.ts";

const jwk = JSON.parse(process.env.BENCH_JWK ?? "null") as JWK;
const service = await createService(inventory({ name: process.env.BENCH_SERVICE_NAME ?? "inventory-bench" }), {
  config: loadConfig(platformConfigSchema),
  verifier: createTokenVerifier({ jwks: { keys: [jwk] }, issuer: "bazaar-identity", audience: "bazaar" }),
  signals: ["SIGTERM", "SIGINT"],
});
console.log(`port ${service.port}`);
