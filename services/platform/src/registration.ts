// Registration in Consul through its HTTP API with plain fetch: three endpoints, AbortSignal timeouts
// and the blocking-query hash header are all we need, so the `consul` client would add a layer
// without adding anything.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "./logger.ts";

export interface ConsulRegistrationOptions {
  /** The local Consul agent's HTTP API: "host:port" (as CONSUL_HTTP_ADDR) or "http://host:port". */
  consulAddr: string;
  /** Service name other services discover, e.g. "catalog" (letters, digits, dashes). */
  name: string;
  /** Unique instance id, e.g. `catalog-${hostname}-${port}`. */
  id: string;
  /** Address other services (and Consul's check) reach this instance at: never 0.0.0.0. */
  address: string;
  port: number;
  /** E.g. [`version=${version}`]. Default none. */
  tags?: string[];
  /** Free-form key/values (Consul's Meta). Default none. */
  meta?: Record<string, string>;
  /** How often Consul calls grpc.health.v1.Health/Check on the instance (default 5000 ms). */
  checkIntervalMs?: number;
  /** How long one check may take (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Consul removes the instance after its check has been critical this long (default 60 000 ms, Consul's minimum). */
  deregisterCriticalAfterMs?: number;
  /** Longest wait between attempts to reach an agent that went away (default 2000 ms). */
  maxRetryMs?: number;
  /** ACL token (default CONSUL_HTTP_TOKEN when set). */
  token?: string;
  logger?: Logger;
}

export interface ConsulRegistration {
  readonly id: string;
  /** Stops watching and removes the instance from the agent. Idempotent. */
  deregister(): Promise<void>;
}

/**
 * Registers the instance with a gRPC health check (grpc.health.v1, no TLS) and keeps it registered:
 * a blocking query on /v1/agent/service/<id> notices at once when the agent forgot it (a dev agent
 * restarted, or Consul reaped it after a long critical spell) and registers it again. Resolves after
 * the first registration; throws a clear error when the options are invalid or the agent refuses.
 */
export async function registerInConsul(options: ConsulRegistrationOptions): Promise<ConsulRegistration> {
  const o = validate(options);
  const base = o.consulAddr.includes("://") ? o.consulAddr.replace(/\/+$/, "") : `http://${o.consulAddr}`;
  const token = o.token ?? process.env.CONSUL_HTTP_TOKEN;
  const headers: Record<string, string> = token ? { "x-consul-token": token } : {};
  const target = `${o.address.includes(":") ? `[${o.address}]` : o.address}:${o.port}`;
  const body = JSON.stringify({
    ID: o.id,
    Name: o.name,
    Address: o.address,
    Port: o.port,
    Tags: o.tags ?? [],
    Meta: o.meta ?? {},
    Check: {
      CheckID: `service:${o.id}`,
      Name: `${o.name} gRPC health`,
      GRPC: target,
      GRPCUseTLS: false,
      Interval: `${o.checkIntervalMs ?? 5000}ms`,
      Timeout: `${o.checkTimeoutMs ?? 2000}ms`,
      // One slow answer (a busy event loop, a GC pause) does not take an instance out of every caller's
      // pool: three checks in a row must fail. A stopping instance deregisters itself, and callers eject an
      // unreachable one on their own, so this delays nothing that needs to be fast.
      FailuresBeforeCritical: 3,
      DeregisterCriticalServiceAfter: `${o.deregisterCriticalAfterMs ?? 60_000}ms`,
    },
  });
  const servicePath = `/v1/agent/service/${encodeURIComponent(o.id)}`;
  const log = o.logger;

  const register = async () => {
    const response = await fetch(`${base}/v1/agent/service/register?replace-existing-checks=true`, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) {
      throw new Error(`Consul at ${o.consulAddr} refused to register "${o.id}": HTTP ${response.status} ${(await response.text()).trim()}`);
    }
    await response.body?.cancel();
  };

  try {
    await register();
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Consul at")) throw error;
    throw new Error(`registerInConsul: cannot reach the Consul agent at ${o.consulAddr} (${describe(error)})`, { cause: error });
  }
  log?.info({ id: o.id, name: o.name, address: target, tags: o.tags ?? [] }, "registered in Consul");

  const stopped = new AbortController();
  const maxRetryMs = o.maxRetryMs ?? 2000;

  // Blocks until the agent's copy of the service changes or the agent goes away; re-registers when
  // it answers 404. Errors (agent down) back off up to maxRetryMs.
  const keep = (async () => {
    let hash: string | undefined;
    let retryMs = 100;
    while (!stopped.signal.aborted) {
      try {
        const query = hash ? `?hash=${encodeURIComponent(hash)}&wait=60s` : "";
        const response = await fetch(`${base}${servicePath}${query}`, {
          headers,
          signal: AbortSignal.any([stopped.signal, AbortSignal.timeout(75_000)]),
        });
        await response.body?.cancel();
        if (response.status === 404) {
          await register();
          log?.warn({ id: o.id }, "Consul agent had lost the registration (restarted, or reaped it): registered again");
          hash = undefined;
        } else if (response.ok) {
          const next = response.headers.get("x-consul-contenthash") ?? undefined;
          // An agent that does not block (no hash) is polled instead of spun on.
          if (!next) await sleep(1000, undefined, { signal: stopped.signal });
          hash = next;
        } else {
          throw new Error(`HTTP ${response.status}`);
        }
        retryMs = 100;
      } catch (error) {
        if (stopped.signal.aborted) break;
        log?.debug({ err: error, id: o.id }, "Consul agent unreachable; retrying");
        hash = undefined;
        await sleep(retryMs, undefined, { signal: stopped.signal }).catch(() => {});
        retryMs = Math.min(retryMs * 2, maxRetryMs);
      }
    }
  })().catch(() => {});

  let deregistering: Promise<void> | undefined;
  return {
    id: o.id,
    deregister() {
      deregistering ??= (async () => {
        stopped.abort();
        await keep;
        const response = await fetch(`${base}/v1/agent/service/deregister/${encodeURIComponent(o.id)}`, {
          method: "PUT",
          headers,
          signal: AbortSignal.timeout(5000),
        }).catch((error: unknown) => {
          throw new Error(`cannot reach the Consul agent at ${o.consulAddr} to deregister "${o.id}" (${describe(error)})`, { cause: error });
        });
        await response.body?.cancel();
        // 404: the agent no longer knows the instance (restarted); nothing left to remove.
        if (!response.ok && response.status !== 404) {
          throw new Error(`Consul at ${o.consulAddr} refused to deregister "${o.id}": HTTP ${response.status}`);
        }
        log?.info({ id: o.id }, "deregistered from Consul");
      })();
      return deregistering;
    },
  };
}

function validate(o: ConsulRegistrationOptions): ConsulRegistrationOptions {
  const problems: string[] = [];
  if (typeof o.consulAddr !== "string" || o.consulAddr.trim() === "") problems.push("consulAddr is required (host:port)");
  if (typeof o.name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(o.name)) problems.push(`name must be letters, digits and dashes (got ${JSON.stringify(o.name)})`);
  if (typeof o.id !== "string" || o.id === "" || /[/?#\s]/.test(o.id)) problems.push(`id must be non-empty without "/", "?", "#" or spaces (got ${JSON.stringify(o.id)})`);
  if (typeof o.address !== "string" || o.address === "" || ["0.0.0.0", "::", "[::]"].includes(o.address)) {
    problems.push(`address must be one other services can reach, not a wildcard (got ${JSON.stringify(o.address)})`);
  }
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) problems.push(`port must be an integer in 1..65535 (got ${o.port})`);
  if (o.tags !== undefined && (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== "string"))) problems.push("tags must be strings");
  if (o.meta !== undefined && (typeof o.meta !== "object" || Object.values(o.meta).some((v) => typeof v !== "string"))) problems.push("meta values must be strings");
  for (const key of ["checkIntervalMs", "checkTimeoutMs", "deregisterCriticalAfterMs", "maxRetryMs"] as const) {
    const value = o[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) problems.push(`${key} must be a positive number of milliseconds (got ${value})`);
  }
  if (problems.length > 0) throw new TypeError(`registerInConsul: ${problems.join("; ")}`);
  return o;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
