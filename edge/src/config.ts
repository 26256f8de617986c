// The edge's configuration: platform variables (Consul, auth, logs) plus its own, validated at start.
import { z } from "zod";
import { authConfig, serviceConfig } from "@bazaar/platform";

const positiveInt = z.coerce.number().int().positive();
const csv = z
  .string()
  .default("")
  .transform((s) => s.split(",").map((x) => x.trim()).filter(Boolean));

export const edgeConfigSchema = z.object({
  ...serviceConfig,
  ...authConfig,
  /** Port the edge listens on. */
  EDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /**
   * Port of /metrics, for Prometheus only: the public port does not serve it. Default 0: any free port
   * (several edges on one machine), announced in Consul as the instance's `metrics_port` meta.
   */
  EDGE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** Origins allowed by CORS (exact, comma-separated). Never "*": credentials are allowed. */
  EDGE_CORS_ORIGINS: csv.refine((list) => !list.includes("*"), "must list origins, not *"),
  /** Largest request body accepted, bytes. */
  EDGE_MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** Deadline of calls that set none. */
  EDGE_DEFAULT_DEADLINE_MS: positiveInt.default(10_000),
  /** Longest deadline a caller may ask for. */
  EDGE_MAX_DEADLINE_MS: positiveInt.default(30_000),
  /** max-age of public cacheable responses, seconds. */
  EDGE_CACHE_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(30),
  /** Consul KV key of the rate limits (JSON, see rate-limit.ts); changes apply at run time. */
  EDGE_RATE_LIMITS_KEY: z.string().min(1).default("bazaar/edge/rate-limits"),
  /**
   * On SIGTERM, how long the edge keeps accepting and serving after it has left Consul (and turned
   * not ready), so callers' discovery and load balancers move away before it stops accepting.
   */
  EDGE_DRAIN_MS: z.coerce.number().int().min(0).default(3000),
  /**
   * Proxies (IPs or CIDRs, comma-separated) whose x-forwarded-for is believed; the client address is the
   * right-most hop that is not one of them. Default none: the socket's address.
   */
  EDGE_TRUSTED_PROXIES: csv,
  /** Serve the storefront's pages (@bazaar/web, server-rendered) at every path that is not the API's. */
  EDGE_WEB_PAGES: z.stringbool().default(true),
});

export type EdgeConfig = z.output<typeof edgeConfigSchema>;
