// The passing instances of one Consul service, kept current by blocking queries: one long-poll at a time
// per service and process, so calls never wait on Consul. When Consul is unreachable the last known
// instances stay in use and the watch retries with backoff.

/** One passing instance as Consul lists it. */
export interface ServiceInstance {
  /** Consul's service id: unique per instance. */
  id: string;
  address: string;
  port: number;
  /** Base URL for gRPC over cleartext HTTP/2, e.g. "http://10.0.0.7:50051". */
  url: string;
  tags: string[];
  meta: Record<string, string>;
}

export interface ConsulWatchOptions {
  /** Consul HTTP API, "host:port" or "http://host:port" (CONSUL_HTTP_ADDR form). */
  consulAddr: string;
  serviceName: string;
  /** ACL token, sent as X-Consul-Token. Default: CONSUL_HTTP_TOKEN (none when unset), as registration and KV. */
  token?: string;
  /** How long Consul may hold a blocking query open. Default 30 s. */
  waitSeconds?: number;
  /** Backoff between failed queries: full jitter between 0 and min(max, min × 2^failures). Defaults 250 ms, 10 s. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called with the new list whenever it changes (and once with the first answer). */
  onChange?: (instances: ServiceInstance[]) => void;
}

export interface ConsulWatch {
  /** The last list Consul gave, or undefined before its first answer. */
  instances(): ServiceInstance[] | undefined;
  /** Why the last query failed, while Consul keeps failing. */
  lastError(): Error | undefined;
  /**
   * Resolves with the list once Consul has answered at least once. Rejects when `signal` aborts (with
   * its reason).
   */
  ready(signal?: AbortSignal): Promise<ServiceInstance[]>;
  /** Stops the watch and its pending query. */
  close(): void;
}

/** Consul's base URL from "host:port" or a URL. */
export function consulBaseUrl(consulAddr: string): string {
  const raw = consulAddr.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new TypeError(`consulAddr must be "host:port" or "http(s)://host:port", got ${JSON.stringify(consulAddr)}`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) {
    throw new TypeError(`consulAddr must be "host:port" or "http(s)://host:port", got ${JSON.stringify(consulAddr)}`);
  }
  return url.origin;
}

interface HealthEntry {
  Node?: { Address?: string };
  Service?: { ID?: string; Address?: string; Port?: number; Tags?: string[] | null; Meta?: Record<string, string> | null };
}

function parseInstances(body: unknown): ServiceInstance[] {
  if (!Array.isArray(body)) throw new Error("Consul answered something other than a list of health entries");
  const instances: ServiceInstance[] = [];
  for (const entry of body as HealthEntry[]) {
    const service = entry.Service;
    const address = service?.Address || entry.Node?.Address;
    if (!service?.ID || !address || !service.Port) continue;
    const host = address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
    instances.push({
      id: service.ID,
      address,
      port: service.Port,
      url: `http://${host}:${service.Port}`,
      tags: service.Tags ?? [],
      meta: service.Meta ?? {},
    });
  }
  return instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const sameInstances = (a: ServiceInstance[] | undefined, b: ServiceInstance[]) =>
  a !== undefined && a.length === b.length && a.every((x, i) => x.id === b[i]!.id && x.url === b[i]!.url);

/** Starts watching `serviceName`'s passing instances. */
export function watchConsulService(options: ConsulWatchOptions): ConsulWatch {
  const base = consulBaseUrl(options.consulAddr);
  if (!options.serviceName) throw new TypeError("serviceName must be a non-empty Consul service name");
  const waitSeconds = options.waitSeconds ?? 30;
  const minBackoffMs = options.minBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 10_000;
  const token = options.token ?? process.env.CONSUL_HTTP_TOKEN;
  const headers: Record<string, string> = token ? { "X-Consul-Token": token } : {};
  const path = `${base}/v1/health/service/${encodeURIComponent(options.serviceName)}`;
  const closing = new AbortController();

  let current: ServiceInstance[] | undefined;
  let error: Error | undefined;
  let waiters: Array<(instances: ServiceInstance[]) => void> = [];

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      closing.signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        closing.signal.removeEventListener("abort", done);
        resolve();
      }
    });

  async function query(index: number): Promise<{ index: number; instances: ServiceInstance[] }> {
    const params = new URLSearchParams({ passing: "true" });
    if (index > 0) {
      params.set("index", String(index));
      params.set("wait", `${waitSeconds}s`);
    }
    // Consul adds up to wait/16 of jitter; anything much later is a dead connection.
    const limit = AbortSignal.timeout(waitSeconds * 1000 * 1.1 + 5_000);
    const response = await fetch(`${path}?${params}`, { headers, signal: AbortSignal.any([closing.signal, limit]) });
    if (!response.ok) {
      const text = (await response.text()).trim().slice(0, 200);
      throw new Error(`Consul at ${base} answered HTTP ${response.status}${text ? `: ${text}` : ""}`);
    }
    const next = Number(response.headers.get("x-consul-index"));
    return { index: Number.isSafeInteger(next) ? next : 0, instances: parseInstances(await response.json()) };
  }

  async function loop() {
    let index = 0;
    let failures = 0;
    while (!closing.signal.aborted) {
      const started = Date.now();
      try {
        const answer = await query(index);
        failures = 0;
        error = undefined;
        // Consul's rules: an index that goes backwards (or is not positive) means start over.
        const previous = index;
        index = answer.index > 0 && answer.index >= index ? answer.index : 0;
        if (current === undefined || !sameInstances(current, answer.instances)) {
          current = answer.instances;
          options.onChange?.(current);
        }
        for (const resolve of waiters) resolve(current);
        waiters = [];
        // An index that did not move yet came back at once would spin; pace it.
        if (index === previous && Date.now() - started < 1_000) await pause(1_000);
      } catch (e) {
        if (closing.signal.aborted) break;
        failures += 1;
        // fetch says only "fetch failed"; the reason (ECONNREFUSED…) is its cause.
        const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
        error = e instanceof Error ? new Error(`${e.message}${cause}`, { cause: e }) : new Error(String(e));
        if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) index = 0;
        const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(failures, 20));
        await pause(Math.max(minBackoffMs / 2, Math.random() * ceiling));
      }
    }
  }
  void loop();

  return {
    instances: () => current,
    lastError: () => error,
    ready(signal) {
      if (current !== undefined) return Promise.resolve(current);
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(signal!.reason);
        };
        const waiter = (instances: ServiceInstance[]) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(instances);
        };
        waiters.push(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    close() {
      closing.abort();
      waiters = [];
    },
  };
}
