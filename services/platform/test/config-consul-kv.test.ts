// watchConsulKv against real Consul KV: the session's agent (CONSUL_HTTP_ADDR) for changes, and a
// private agent on a free port for outages.
import test, { type ExecutionContext } from "ava";
import { z } from "zod";
import { createSupervisor, ensureConsul, freePort, stackSettings } from "@bazaar/stack";
import { watchConsulKv } from "../src/config/consul-kv.ts";
import { createLogger } from "../src/logger.ts";
import { eventually } from "../src/testing.ts";

const consulAddr = process.env.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";

const rateLimit = z
  .object({ perMinute: z.number().int().positive(), burst: z.number().int().positive().optional() })
  .default({ perMinute: 600 });

function uniqueKey(): string {
  return `bazaar-test/config-kv/${crypto.randomUUID()}/rate-limit`;
}

async function put(key: string, value: string, addr = consulAddr): Promise<void> {
  const response = await fetch(`http://${addr}/v1/kv/${key}`, { method: "PUT", body: value });
  if (!response.ok) throw new Error(`PUT ${key}: HTTP ${response.status}`);
}

async function remove(key: string, addr = consulAddr): Promise<void> {
  await fetch(`http://${addr}/v1/kv/${key}`, { method: "DELETE" });
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: "kv-test", level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { logger, lines };
}


function watch<S extends z.ZodType>(t: ExecutionContext, options: Parameters<typeof watchConsulKv<S>>[0]) {
  const changes: z.output<S>[] = [];
  const watcher = watchConsulKv({ ...options, onChange: (value) => changes.push(value) });
  t.teardown(() => watcher.stop());
  return { watcher, changes };
}

test("a missing key gives the schema's default; writing it delivers the parsed value to onChange", async (t) => {
  const key = uniqueKey();
  t.teardown(() => remove(key));
  const { watcher, changes } = watch(t, { consulAddr, key, parse: rateLimit });
  await watcher.ready;
  t.deepEqual(watcher.current(), { perMinute: 600 });
  t.deepEqual(changes, [{ perMinute: 600 }]);

  await put(key, JSON.stringify({ perMinute: 120, burst: 20 }));
  await eventually("the new value", () => changes.length === 2);
  t.deepEqual(changes[1], { perMinute: 120, burst: 20 });
  t.deepEqual(watcher.current(), { perMinute: 120, burst: 20 });
});

test("an invalid value is ignored and logged, keeping the last good one; a later valid value applies", async (t) => {
  const key = uniqueKey();
  t.teardown(() => remove(key));
  await put(key, JSON.stringify({ perMinute: 120 }));
  const { logger, lines } = captureLogger();
  const { watcher, changes } = watch(t, { consulAddr, key, parse: rateLimit, logger });
  await watcher.ready;
  t.deepEqual(changes, [{ perMinute: 120 }]);

  await put(key, JSON.stringify({ perMinute: -5 }));
  await eventually("the invalid value to be logged", () => lines.some((l) => l.msg === "ignoring invalid Consul KV value; keeping the current value"));
  await put(key, "{not json");
  await eventually("the non-JSON value to be logged", () => lines.some((l) => String(l.msg).startsWith("ignoring Consul KV value: not JSON")));
  t.deepEqual(watcher.current(), { perMinute: 120 });
  t.is(changes.length, 1);
  const invalid = lines.find((l) => l.msg === "ignoring invalid Consul KV value; keeping the current value");
  t.is(invalid?.consul_key, key);
  t.regex(String(invalid?.problems), /perMinute/);

  await put(key, JSON.stringify({ perMinute: 90 }));
  await eventually("the valid value", () => changes.length === 2);
  t.deepEqual(watcher.current(), { perMinute: 90 });
});

test("deleting the key brings back the default", async (t) => {
  const key = uniqueKey();
  t.teardown(() => remove(key));
  await put(key, JSON.stringify({ perMinute: 30 }));
  const { watcher, changes } = watch(t, { consulAddr, key, parse: rateLimit });
  await watcher.ready;
  t.deepEqual(watcher.current(), { perMinute: 30 });
  await remove(key);
  await eventually("the default", () => changes.length === 2);
  t.deepEqual(changes, [{ perMinute: 30 }, { perMinute: 600 }]);
});

test("text values are validated as text, and rewriting the same value is not a change", async (t) => {
  const key = uniqueKey();
  t.teardown(() => remove(key));
  const flag = z.stringbool().default(false);
  const { watcher, changes } = watch(t, { consulAddr, key, parse: flag, format: "text" });
  await watcher.ready;
  await put(key, "on");
  await eventually("the flag", () => changes.length === 2);
  await put(key, "on");
  await put(key, "off");
  await eventually("the flag off", () => changes.length === 3);
  t.deepEqual(changes, [false, true, false]);
});

test("a schema without a default is refused", (t) => {
  t.throws(() => watchConsulKv({ consulAddr, key: uniqueKey(), parse: z.number() }), { instanceOf: TypeError, message: /default/ });
});

test("while Consul is unreachable the watch keeps its value and retries, picking up changes once Consul answers", async (t) => {
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const key = uniqueKey();
  const supervisor = createSupervisor({ write() {} });
  t.teardown(() => supervisor.stopAll());
  const { logger, lines } = captureLogger();
  const started = Date.now();
  const { watcher, changes } = watch(t, { consulAddr: addr, key, parse: rateLimit, logger });
  await watcher.ready; // settles on the first failure
  t.deepEqual(watcher.current(), { perMinute: 600 });
  t.true(lines.some((l) => l.msg === "cannot read Consul KV; keeping the current value"));

  const settings = { ...stackSettings(), consulAddr: addr };
  const consul = await ensureConsul(settings, supervisor);
  t.truthy(consul.process, "a private agent");
  await put(key, JSON.stringify({ perMinute: 42 }), addr);
  await eventually("the value once Consul answers", () => changes.some((c) => c.perMinute === 42), 40_000);
  const elapsed = Date.now() - started;
  const failuresBefore = lines.filter((l) => l.msg === "cannot read Consul KV; keeping the current value").length;
  // Backoff: the n-th retry waits at least half of min(30 s, 250 ms · 2^(n-1)).
  let shortest = 0;
  for (let n = 1; n < failuresBefore; n++) shortest += Math.min(30_000, 250 * 2 ** (n - 1)) / 2;
  t.true(shortest <= elapsed, `${failuresBefore} failed attempts in ${elapsed} ms: retries did not back off`);

  await consul.process!.stop();
  await eventually("the outage to be noticed", () => lines.filter((l) => l.msg === "cannot read Consul KV; keeping the current value").length > failuresBefore);
  t.deepEqual(watcher.current(), { perMinute: 42 }, "the last value stays in effect during the outage");
});
