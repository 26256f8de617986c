// The edge process: telemetry first, then config, then the server; SIGTERM/SIGINT close it in order.
import { hostname } from "node:os";
import { createLogger, createTokenVerifier, loadConfig, registerInConsul, startTelemetry, tokenVerifierFromConfig } from "@bazaar/platform";
import { edgeConfigSchema } from "./config.ts";
import { createEdge } from "./server.ts";

const telemetry = startTelemetry({ serviceName: "edge" });
const config = loadConfig(edgeConfigSchema);
const logger = createLogger({ service: "edge", level: config.LOG_LEVEL });
// Identity's JWKS at AUTH_JWKS_URL, else through Consul (AUTH_JWKS_DISCOVERY); without either
// (development only) no token verifies: every token is refused.
const verifier =
  tokenVerifierFromConfig(config, { logger }) ??
  createTokenVerifier({ jwks: { keys: [] }, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });
const edge = createEdge({
  logger,
  verifier,
  consulAddr: config.CONSUL_HTTP_ADDR,
  upstreams: config.EDGE_UPSTREAMS,
  jwksUrl: config.AUTH_JWKS_URL,
  host: config.SERVICE_HOST,
  port: config.EDGE_PORT,
  corsOrigins: config.EDGE_CORS_ORIGINS,
  maxBodyBytes: config.EDGE_MAX_BODY_BYTES,
  defaultDeadlineMs: config.EDGE_DEFAULT_DEADLINE_MS,
  maxDeadlineMs: config.EDGE_MAX_DEADLINE_MS,
  cacheMaxAgeSeconds: config.EDGE_CACHE_MAX_AGE_SECONDS,
  rateLimitsKey: config.EDGE_RATE_LIMITS_KEY,
  trustProxy: config.EDGE_TRUST_PROXY,
});
const { port } = await edge.listen();
const address = config.ADVERTISE_ADDRESS ?? (config.SERVICE_HOST === "0.0.0.0" ? "127.0.0.1" : config.SERVICE_HOST);
const registration = await registerInConsul({ consulAddr: config.CONSUL_HTTP_ADDR, name: "edge", id: `edge-${hostname()}-${port}`, address, port, tags: ["version=1.0.0"], logger });

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, async () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "edge stopping");
    await registration.deregister();
    await edge.close();
    verifier.close?.();
    await telemetry.shutdown();
    process.exit(0);
  });
}
