// What the clients of one service share within a process: the discovery watch, the instance set with its
// balancing and ejection state, one HTTP/2 session per instance, and the retry budget. Reference-counted:
// the last transport to let go closes it.
import type { Http2SessionManager, Http2SessionOptions } from "@connectrpc/connect-node";
import { GuardedHttp2SessionManager } from "./guarded-session-manager.ts";
import { createBalancer, type Balancer, type BalancerOptions, type Endpoint } from "./balancer.ts";
import { consulBaseUrl, watchConsulService, type ConsulWatch, type ServiceInstance } from "./consul-watch.ts";
import { createRetryBudget, type RetryBudget, type RetryPolicy } from "./retry.ts";

export type PoolTarget =
  | { consulAddr: string; serviceName: string; consulToken?: string; watchWaitSeconds?: number }
  | { address: string };

export interface PoolOptions {
  target: PoolTarget;
  balancer: Pick<BalancerOptions, "ejectAfterFailures" | "ejectionBaseMs" | "ejectionMaxMs">;
  budget: Pick<RetryPolicy, "budgetRatio" | "budgetMinPerSecond" | "budgetMaxTokens">;
  http2: Http2SessionOptions;
}

export interface ServicePool {
  /** For messages: `service "catalog" (Consul at http://127.0.0.1:8500)` or the fixed address. */
  readonly description: string;
  readonly balancer: Balancer<ServiceInstance>;
  readonly budget: RetryBudget;
  /** Consul's first answer (at once for a fixed address); rejects with the signal's reason. */
  ready(signal?: AbortSignal): Promise<void>;
  /** Why discovery has no answer yet, if it failed. */
  discoveryError(): Error | undefined;
  /** The instance's HTTP/2 session, shared by every client of this pool. */
  session(endpoint: Endpoint<ServiceInstance>): Http2SessionManager;
  /** Counts an attempt in flight on the endpoint (for balancing) until `end`. */
  begin(endpoint: Endpoint<ServiceInstance>): void;
  end(endpoint: Endpoint<ServiceInstance>): void;
  /** Drops one reference; the last closes the watch and every session. */
  release(): void;
}

interface SharedPool extends ServicePool {
  refs: number;
}

const pools = new Map<string, SharedPool>();

/** The shared pool for these options, created on first use. */
export function acquirePool(options: PoolOptions): ServicePool {
  const key = JSON.stringify(options);
  let pool = pools.get(key);
  if (!pool) {
    pool = createPool(options, () => pools.delete(key));
    pools.set(key, pool);
  }
  pool.refs += 1;
  return pool;
}

/** Parses a fixed address ("http://host:port", or "host:port" meaning cleartext) to a base URL. */
export function fixedAddressUrl(address: string): string {
  const raw = address.trim();
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname || !url.port) {
    throw new TypeError(`address must be "http://host:port" (or https), got ${JSON.stringify(address)}`);
  }
  return url.origin;
}

function createPool(options: PoolOptions, forget: () => void): SharedPool {
  const balancer = createBalancer<ServiceInstance>(options.balancer);
  const budget = createRetryBudget(options.budget);
  const sessions = new Map<Endpoint<ServiceInstance>, Http2SessionManager>();
  const target = options.target;

  const closeSession = (endpoint: Endpoint<ServiceInstance>) => {
    sessions.get(endpoint)?.abort();
    sessions.delete(endpoint);
  };

  const update = (instances: ServiceInstance[]) => {
    // An instance that left (deregistered, failing its check) finishes its attempts under way first.
    for (const endpoint of balancer.setInstances(instances).removed) if (endpoint.inFlight === 0) closeSession(endpoint);
  };

  let watch: ConsulWatch | undefined;
  let description: string;
  if ("address" in target) {
    const url = fixedAddressUrl(target.address);
    const host = new URL(url);
    description = `fixed address ${url}`;
    update([{ id: url, address: host.hostname, port: Number(host.port), url, tags: [], meta: {} }]);
  } else {
    description = `service "${target.serviceName}" (Consul at ${consulBaseUrl(target.consulAddr)})`;
    watch = watchConsulService({
      consulAddr: target.consulAddr,
      serviceName: target.serviceName,
      ...(target.consulToken ? { token: target.consulToken } : {}),
      ...(target.watchWaitSeconds ? { waitSeconds: target.watchWaitSeconds } : {}),
      onChange: update,
    });
  }

  const pool: SharedPool = {
    refs: 0,
    description,
    balancer,
    budget,
    ready: async (signal) => {
      if (watch) await watch.ready(signal);
    },
    discoveryError: () => watch?.lastError(),
    session(endpoint) {
      let session = sessions.get(endpoint);
      if (!session) {
        session = new GuardedHttp2SessionManager(endpoint.instance.url, options.http2);
        sessions.set(endpoint, session);
      }
      return session;
    },
    begin(endpoint) {
      endpoint.inFlight += 1;
    },
    end(endpoint) {
      endpoint.inFlight -= 1;
      if (endpoint.removed && endpoint.inFlight === 0) closeSession(endpoint);
    },
    release() {
      if (--pool.refs > 0) return;
      forget();
      watch?.close();
      for (const endpoint of [...sessions.keys()]) closeSession(endpoint);
    },
  };
  return pool;
}
