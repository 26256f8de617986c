// SIGTERM to an edge process while requests keep arriving: it leaves Consul and keeps accepting and
// answering (new connections too) while callers' discovery moves away, then exits cleanly. A caller
// that follows Consul, even a second late, is never refused. And the drain is the platform's: what is
// still running when the grace period ends is answered, not cut off.
import { spawn } from "node:child_process";
import http from "node:http";
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { CatalogService } from "@bazaar/contracts/bazaar/catalog/v1/catalog_pb";
import { createHealth, createLogger, createMetricsRegistry, createRpcServer, createTokenVerifier, registerInConsul } from "@bazaar/platform";
import { eventually, testEnv, uniqueName } from "@bazaar/platform/testing";
import { createEdge } from "../src/index.ts";

const consulAddr = testEnv.CONSUL_HTTP_ADDR ?? "127.0.0.1:8500";
const edgeDir = fileURLToPath(new URL("..", import.meta.url));

/** One Connect call the edge answers itself (grpc.health), on a new connection or a kept-alive one. */
function call(port: number, agent: http.Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, path: "/grpc.health.v1.Health/Check", method: "POST", agent, headers: { "content-type": "application/json" } },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end("{}");
  });
}

async function registered(id: string): Promise<boolean> {
  const response = await fetch(`http://${consulAddr}/v1/health/service/edge`);
  return ((await response.json()) as Array<{ Service: { ID: string } }>).some((entry) => entry.Service.ID === id);
}

test("SIGTERM: the edge leaves Consul, serves every request that keeps arriving, new connections included, then exits 0", async (t) => {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: edgeDir,
    env: {
      ...testEnv,
      LOG_LEVEL: "info",
      EDGE_PORT: "0",
      EDGE_DRAIN_MS: "3000",
      SHUTDOWN_GRACE_MS: "3000",
      EDGE_RATE_LIMITS_KEY: `bazaar/test/${uniqueName("edge-drain")}`,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const logs: Array<{ msg?: string; port?: number }> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as { msg?: string; port?: number });
    } catch {
      // not a log line
    }
  });
  const port = await eventually("the edge to listen", () => logs.find((line) => line.msg === "edge listening")?.port, 60_000);
  const id = `edge-${hostname()}-${port}`;
  await eventually("the edge in Consul", () => registered(id), 15_000);

  // Callers: half on a new connection per request, half on kept-alive ones; each sends until its
  // discovery (Consul, polled) has not listed the edge for a second.
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => keepAlive.destroy());
  let gone: number | undefined;
  let terminatedAt: number | undefined;
  const outcomes: Array<{ at: number; fresh: boolean; ok: boolean; error?: string }> = [];
  const stillListed = async () => {
    while (gone === undefined || Date.now() - gone < 1000) {
      if (gone === undefined && !(await registered(id))) gone = Date.now();
      await sleep(50); // a discovery poll interval, not a synchronisation
    }
  };
  const caller = async (fresh: boolean) => {
    while (gone === undefined || Date.now() - gone < 1000) {
      const at = Date.now();
      try {
        const status = await call(port, fresh ? false : keepAlive);
        outcomes.push({ at, fresh, ok: status === 200, error: status === 200 ? undefined : `HTTP ${status}` });
      } catch (error) {
        outcomes.push({ at, fresh, ok: false, error: (error as Error).message });
      }
      await sleep(20); // pacing: ~50 requests/s per caller
    }
  };
  const load = Promise.all([stillListed(), caller(true), caller(true), caller(false), caller(false)]);
  await eventually("requests before the SIGTERM", () => outcomes.filter((o) => o.ok).length >= 20);
  terminatedAt = Date.now();
  child.kill("SIGTERM");
  await load;

  const failures = outcomes.filter((o) => !o.ok);
  t.deepEqual(failures, [], "no request refused or failed");
  const afterTerm = outcomes.filter((o) => o.at > terminatedAt!);
  const afterGone = outcomes.filter((o) => o.at > gone!);
  t.true(afterGone.filter((o) => o.fresh).length >= 10, `new connections accepted after it left Consul (${afterGone.length} requests after, ${afterTerm.length} after SIGTERM)`);
  t.is(child.exitCode, null, "still up while callers were moving away");
  t.is(await exited, 0, "exits cleanly once drained");
  t.false(await registered(id));
});

test("closing: a call still running when the grace period ends is answered unavailable in its protocol, not cut off", async (t) => {
  const logger = createLogger({ service: "edge-drain-test", level: "silent" });
  // An upstream catalog that never answers SearchProducts (but passes Consul's health check).
  let started = 0;
  const upstreamHealth = createHealth();
  const upstream = createRpcServer({
    routes: (router) => router.service(CatalogService, { searchProducts: () => (started++, new Promise<never>(() => {})) }),
    registry: createMetricsRegistry({ service: "hanging-catalog" }),
    health: upstreamHealth,
    logger,
    host: "127.0.0.1",
  });
  const { port: upstreamPort } = await upstream.listen();
  t.teardown(() => upstream.close({ graceMs: 0 }));
  const name = uniqueName("hanging-catalog");
  const registration = await registerInConsul({ consulAddr, name, id: name, address: "127.0.0.1", port: upstreamPort, checkIntervalMs: 1000 });
  t.teardown(() => registration.deregister());
  await eventually(`${name} to pass in Consul`, async () => ((await (await fetch(`http://${consulAddr}/v1/health/service/${name}?passing=true`)).json()) as unknown[]).length > 0, 30_000);

  const edge = createEdge({
    logger,
    verifier: createTokenVerifier({ jwks: { keys: [] }, issuer: "bazaar-identity", audience: "bazaar" }),
    consulAddr,
    upstreams: { catalog: name },
    rateLimitsKey: `bazaar/test/${uniqueName("edge-close")}`,
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  const answer = fetch(`http://127.0.0.1:${port}/bazaar.catalog.v1.CatalogService/SearchProducts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "lamp" }),
  }).then(
    async (response) => ({ status: response.status, body: (await response.json()) as { code: string; message: string } }),
    (error: unknown) => ({ status: 0, body: { code: "none: the connection was cut", message: String((error as Error).cause ?? error) } }),
  );
  await eventually("the call to reach the upstream", () => started > 0);

  await edge.close({ graceMs: 100 });
  const { status, body } = await answer;
  t.is(status, 503);
  t.is(body.code, "unavailable", "safe to retry elsewhere");
  t.regex(body.message, /shutting down/);
});
