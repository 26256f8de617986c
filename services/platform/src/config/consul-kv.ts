// Run-time tunables (rate limits, feature flags) from Consul KV, kept current by blocking queries —
// one long-poll per key, no polling interval to tune.
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import type { Logger } from "../logger.ts";

export interface ConsulKvWatchOptions<S extends z.ZodType> {
  /** Consul HTTP API: "host:port" (as CONSUL_HTTP_ADDR) or "http(s)://host:port". */
  consulAddr: string;
  /** The KV key, e.g. "bazaar/catalog/list-page-size". */
  key: string;
  /**
   * Validates (and coerces) the value. Its `.default()` is the value while the key is missing or
   * deleted, so it must have one: z.coerce.number().int().positive().default(50).
   */
  parse: S;
  /** "json" (default): the stored text is parsed as JSON first; "text": the text itself is validated. */
  format?: "json" | "text";
  /** Called with the value in effect once Consul first answers, then each time it changes. */
  onChange?: (value: z.output<S>) => void;
  /** Invalid values and Consul outages are logged here. */
  logger?: Logger;
  /** ACL token. Default: CONSUL_HTTP_TOKEN. */
  token?: string;
  /** Longest a blocking query waits for a change before asking again. Default 60 s. */
  waitSeconds?: number;
}

export interface ConsulKvWatch<T> {
  /** The value in effect: the last valid one read, else the schema's default. */
  current(): T;
  /** Settles once the first answer from Consul (or the first failure to reach it) has been handled. */
  ready: Promise<void>;
  /** Ends the watch (aborts the pending blocking query). */
  stop(): Promise<void>;
}

/**
 * Watches one Consul KV key. A value that fails `parse` is ignored (and logged): the last good value
 * stays in effect. A deleted key brings back the default. While Consul cannot be reached the last value
 * stays in effect and the watch retries with exponential backoff (250 ms doubling to 30 s, jittered).
 */
export function watchConsulKv<S extends z.ZodType>(options: ConsulKvWatchOptions<S>): ConsulKvWatch<z.output<S>> {
  type T = z.output<S>;
  const initial = options.parse.safeParse(undefined);
  if (!initial.success) throw new TypeError(`watchConsulKv(${options.key}): parse needs a .default() (the value while the key is missing)`);
  const base = /^https?:\/\//.test(options.consulAddr) ? options.consulAddr.replace(/\/+$/, "") : `http://${options.consulAddr}`;
  const path = options.key.replace(/^\/+/, "").split("/").map(encodeURIComponent).join("/");
  const headers: Record<string, string> = {};
  const token = options.token ?? process.env.CONSUL_HTTP_TOKEN;
  if (token) headers["X-Consul-Token"] = token;
  const waitSeconds = options.waitSeconds ?? 60;
  const log = options.logger?.child({ consul_key: options.key });

  let value: T = initial.data;
  let lastSeen: string | null | undefined; // raw text last read (null: missing), to skip wake-ups that changed nothing
  let stopped = false;
  const abort = new AbortController();
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  function apply(raw: string | null): void {
    if (raw === lastSeen) return;
    const first = lastSeen === undefined;
    lastSeen = raw;
    let next: T;
    if (raw === null) {
      next = initial.data as T;
    } else {
      let input: unknown = raw;
      if ((options.format ?? "json") === "json") {
        try {
          input = JSON.parse(raw);
        } catch {
          log?.warn({ value: raw }, "ignoring Consul KV value: not JSON; keeping the current value");
          return;
        }
      }
      const parsed = options.parse.safeParse(input);
      if (!parsed.success) {
        log?.warn({ value: raw, problems: z.prettifyError(parsed.error) }, "ignoring invalid Consul KV value; keeping the current value");
        return;
      }
      next = parsed.data as T;
    }
    const changed = first || JSON.stringify(next) !== JSON.stringify(value);
    value = next;
    if (changed) options.onChange?.(value);
  }

  async function loop(): Promise<void> {
    let index = 0;
    let failures = 0;
    while (!stopped) {
      try {
        const query = index > 0 ? `?index=${index}&wait=${waitSeconds}s` : "";
        const response = await fetch(`${base}/v1/kv/${path}${query}`, { headers, signal: abort.signal });
        let raw: string | null;
        if (response.status === 404) {
          raw = null;
          await response.body?.cancel();
        } else if (response.ok) {
          const [entry] = (await response.json()) as { Value: string | null }[];
          raw = entry ? Buffer.from(entry.Value ?? "", "base64").toString("utf8") : null;
        } else {
          await response.body?.cancel();
          throw new Error(`Consul answered HTTP ${response.status}`);
        }
        apply(raw);
        // Consul's rules for blocking-query indexes: must stay positive, and start over if it goes back.
        const next = Number(response.headers.get("x-consul-index"));
        index = !Number.isFinite(next) || next < 1 ? 1 : next < index ? 0 : next;
        if (failures > 0) log?.info("Consul KV reachable again");
        failures = 0;
        markReady();
      } catch (error) {
        if (stopped) break;
        failures += 1;
        markReady();
        const delay = Math.min(30_000, 250 * 2 ** Math.min(failures - 1, 10)) * (0.5 + Math.random() / 2);
        log?.warn({ err: error, retry_in_ms: Math.round(delay) }, "cannot read Consul KV; keeping the current value");
        await sleep(delay, undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  }

  const running = loop();
  return {
    current: () => value,
    ready,
    async stop() {
      stopped = true;
      abort.abort();
      await running;
    },
  };
}
