// The edge process: telemetry first, then config, then the server, served and registered by the
// platform's serve() as every service is; SIGTERM/SIGINT drain it without refusing anyone (the
// lifecycle's phases): not ready and out of Consul, still serving for EDGE_DRAIN_MS while callers move
// away, then it stops accepting (GOAWAY, Connection: close) and finishes what is in flight within
// SHUTDOWN_GRACE_MS.
import { hostname } from "node:os";
import { createLifecycle, createLogger, createTokenVerifier, loadConfig, serve, startTelemetry, tokenVerifierFromConfig, tracedFetch } from "@bazaar/platform";
import { edgeConfigSchema } from "./config.ts";
import { createEdge } from "./server.ts";
import { createWebPages } from "@bazaar/web";

const telemetry = startTelemetry({ serviceName: "edge" });
const config = loadConfig(edgeConfigSchema);
const logger = createLogger({ service: "edge", level: config.LOG_LEVEL });
// Identity's JWKS at AUTH_JWKS_URL, else through Consul (AUTH_JWKS_DISCOVERY); without either
// (development only) no token verifies: every token is refused.
const verifier =
  tokenVerifierFromConfig(config, { logger }) ??
  createTokenVerifier({ jwks: { keys: [] }, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });
// The pages render through this edge's own API (loopback), so the port is known only once it listens;
// their calls carry the page request's trace context, so a page and its data calls are one trace.
let ownUrl = "";
const pages = config.EDGE_WEB_PAGES ? createWebPages({ apiBaseUrl: () => ownUrl, fetch: tracedFetch() }) : undefined;
const edge = createEdge({
  logger,
  verifier,
  consulAddr: config.CONSUL_HTTP_ADDR,
  upstreams: config.UPSTREAMS,
  jwksUrl: config.AUTH_JWKS_URL,
  host: config.SERVICE_HOST,
  port: config.EDGE_PORT,
  metricsPort: config.EDGE_METRICS_PORT,
  corsOrigins: config.EDGE_CORS_ORIGINS,
  maxBodyBytes: config.EDGE_MAX_BODY_BYTES,
  defaultDeadlineMs: config.EDGE_DEFAULT_DEADLINE_MS,
  maxDeadlineMs: config.EDGE_MAX_DEADLINE_MS,
  cacheMaxAgeSeconds: config.EDGE_CACHE_MAX_AGE_SECONDS,
  rateLimitsKey: config.EDGE_RATE_LIMITS_KEY,
  trustedProxies: config.EDGE_TRUSTED_PROXIES,
  ...(pages ? { pages } : {}),
});
const lifecycle = createLifecycle({ logger, graceMs: config.EDGE_DRAIN_MS + config.SHUTDOWN_GRACE_MS });
lifecycle.onShutdown("close", "verifier", () => verifier.close?.());
lifecycle.onShutdown("close", "telemetry", () => telemetry.shutdown());
const serving = await serve({ server: edge, lifecycle, health: edge.health, config, logger });
ownUrl = `http://127.0.0.1:${serving.port}`;
// Listening already: this only reads the ports back.
const { metricsPort } = await edge.listen();
await serving.register({
  name: "edge",
  id: `edge-${hostname()}-${serving.port}`,
  tags: ["version=1.0.0"],
  // INSTANCE_ID: the stable name the local stack (or an orchestrator) gives this process (platform config).
  // Prometheus finds /metrics through Consul: on this port, not the public one.
  meta: { ...(config.INSTANCE_ID ? { instance: config.INSTANCE_ID } : {}), ...(metricsPort ? { metrics_port: String(metricsPort) } : {}) },
  // Still accepting and serving after leaving Consul: callers that had this address a moment ago keep being answered.
  settleMs: config.EDGE_DRAIN_MS,
});
