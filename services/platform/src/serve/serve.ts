// Serving with the lifecycle: the same listen, Consul registration and ordered drain for every server
// of the mesh — a service's (createService) and the edge's (which builds its own RpcServer with a
// front, then hands it here).
import { setTimeout as sleep } from "node:timers/promises";
import type { PlatformConfig } from "../config/platform-schema.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { Logger } from "../logger.ts";
import { registerInConsul, type ConsulRegistration } from "../registration.ts";
import type { Health } from "./health.ts";

/** What `serve` needs of a server: an RpcServer, or anything built on one (the edge). */
export interface Listener {
  listen(): Promise<{ port: number }>;
  /** Graceful stop within `graceMs` (see RpcServer.close). */
  close(options?: { graceMs?: number }): Promise<void>;
}

export interface ServeOptions {
  server: Listener;
  lifecycle: Lifecycle;
  /** Turned NOT_SERVING in the lifecycle's first phase, before the instance leaves Consul. Omit when the caller does it. */
  health?: Health;
  config: Pick<PlatformConfig, "SERVICE_HOST" | "ADVERTISE_ADDRESS" | "CONSUL_HTTP_ADDR">;
  logger: Logger;
}

export interface RegisterOptions {
  /** The Consul name callers discover, e.g. "catalog". */
  name: string;
  /** This instance's Consul id. */
  id: string;
  tags?: string[];
  meta?: Record<string, string>;
  /**
   * After leaving Consul, how long the server keeps accepting and serving before the drain closes
   * it, so calls routed here a moment ago still land (what a preStop sleep does in Kubernetes).
   */
  settleMs: number;
}

export interface Serving {
  readonly port: number;
  /** host:port others reach this instance at (ADVERTISE_ADDRESS, else SERVICE_HOST unless it is 0.0.0.0). */
  readonly address: string;
  /** Registers the instance in Consul; the lifecycle's "deregister" phase removes it, then waits settleMs. */
  register(options: RegisterOptions): Promise<ConsulRegistration>;
}

/**
 * Listens, and adds the server's graceful close (stop accepting, GOAWAY / Connection: close, in-flight
 * calls finish within what is left of the grace period) to the lifecycle's "drain" phase. Registration
 * is a separate step so a service can start its consumers between listening and being discoverable.
 */
export async function serve(options: ServeOptions): Promise<Serving> {
  const { server, lifecycle, config } = options;
  const { health } = options;
  if (health) lifecycle.onShutdown("health", "not serving", () => health.shutdown());
  const { port } = await server.listen();
  lifecycle.onShutdown("drain", "rpc server", (context) => server.close({ graceMs: context.remainingMs() }));
  const host = advertisedHost(config);
  return {
    port,
    address: `${host}:${port}`,
    async register(registerOptions) {
      const registration = await registerInConsul({
        consulAddr: config.CONSUL_HTTP_ADDR,
        name: registerOptions.name,
        id: registerOptions.id,
        address: host,
        port,
        tags: registerOptions.tags ?? [],
        meta: registerOptions.meta ?? {},
        logger: options.logger,
      });
      lifecycle.onShutdown("deregister", "consul", async (context) => {
        await registration.deregister();
        await sleep(Math.min(registerOptions.settleMs, context.remainingMs()));
      });
      return registration;
    },
  };
}

function advertisedHost(config: Pick<PlatformConfig, "SERVICE_HOST" | "ADVERTISE_ADDRESS">): string {
  return config.ADVERTISE_ADDRESS ?? (config.SERVICE_HOST === "0.0.0.0" ? "127.0.0.1" : config.SERVICE_HOST);
}
