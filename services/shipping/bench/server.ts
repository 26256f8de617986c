// The shipping service as its own process for the benchmark (so the load generator does not share its
// event loop): verifies tokens against the public key in BENCH_JWK and prints "port <n> pid <pid>" once serving.
import type { JWK } from "jose";
import { createService, createTokenVerifier, loadConfig } from "@bazaar/platform";
import { shipping, shippingConfigSchema } from "../src/index.ts";

const jwk = JSON.parse(process.env.BENCH_JWK ?? "null") as JWK;
const config = loadConfig(shippingConfigSchema);
const service = await createService(shipping({ config, name: process.env.BENCH_SERVICE_NAME ?? "shipping-bench" }), {
  config,
  verifier: createTokenVerifier({ jwks: { keys: [jwk] }, issuer: "bazaar-identity", audience: "bazaar" }),
  signals: ["SIGTERM", "SIGINT"],
});
console.log(`port ${service.port} pid ${process.pid}`);
