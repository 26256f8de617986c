// The edge for the benchmark in its own process, pointed at the benchmark's catalog and cart. Prints "port <n>".
import { createLogger, createTokenVerifier } from "@bazaar/platform";
import { createEdge } from "../src/index.ts";

const edge = createEdge({
  logger: createLogger({ service: "edge", level: "silent" }),
  verifier: createTokenVerifier({ jwks: { keys: [] }, issuer: "bazaar-identity", audience: "bazaar" }),
  consulAddr: process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500",
  upstreams: { catalog: process.env.BENCH_CATALOG_NAME!, cart: process.env.BENCH_CART_NAME! },
  rateLimitsKey: process.env.BENCH_LIMITS_KEY!,
});
const { port } = await edge.listen();
process.stdout.write(`port ${port}\n`);
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => void edge.close().then(() => process.exit(0)));
