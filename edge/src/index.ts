// @bazaar/edge: what tools and tests may import — the edge factory, its config and its surface.
export { createEdge, type Edge, type EdgeOptions } from "./server.ts";
export { edgeConfigSchema, type EdgeConfig } from "./config.ts";
export { surface, type Access, type SurfaceEntry } from "./surface.ts";
export { publicServices, type PublicService } from "./public-services.ts";
export { generateOpenApi } from "./openapi.ts";
export { rateLimitsSchema, type RateLimits } from "./rate-limit.ts";
