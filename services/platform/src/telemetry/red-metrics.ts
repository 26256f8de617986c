// RED metrics per RPC method — Rate, Errors (by Connect code), Duration — in the instance's Prometheus
// registry (served at /metrics).
import type { Interceptor } from "@connectrpc/connect";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { codeOf, connectCodeName, observeStream, procedureOf } from "./rpc-outcome.ts";

/** Seconds; from 0.5 ms to 10 s, dense where in-mesh RPCs live (1–100 ms). */
export const RPC_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface RedMetricsOptions {
  /**
   * "server" (default): calls this service handles, as
   *   rpc_server_requests_total{method, code}           finished calls; code "ok" or a Connect code ("not_found")
   *   rpc_server_request_duration_seconds{method, code} histogram
   *   rpc_server_requests_in_flight{method}
   * "client": calls this service makes, as the same three named rpc_client_*.
   * `method` is "package.Service/Method". Streams count when they end.
   */
  side?: "server" | "client";
}

/** An interceptor recording RED metrics into `registry`. Put it right after the tracing interceptor. */
export function redMetricsInterceptor(registry: Registry, options: RedMetricsOptions = {}): Interceptor {
  const side = options.side ?? "server";
  const who = side === "server" ? "handled by this service" : "made by this service";
  const requests = metric(registry, `rpc_${side}_requests_total`, (name) =>
    new Counter({ name, help: `RPCs ${who}, by method and result code`, labelNames: ["method", "code"], registers: [registry] }),
  );
  const duration = metric(registry, `rpc_${side}_request_duration_seconds`, (name) =>
    new Histogram({
      name,
      help: `Duration of RPCs ${who}, in seconds`,
      labelNames: ["method", "code"],
      buckets: RPC_DURATION_BUCKETS,
      registers: [registry],
    }),
  );
  const inFlight = metric(registry, `rpc_${side}_requests_in_flight`, (name) =>
    new Gauge({ name, help: `RPCs ${who} and not finished yet`, labelNames: ["method"], registers: [registry] }),
  );

  return (next) => async (req) => {
    const method = procedureOf(req);
    const started = performance.now();
    inFlight.inc({ method });
    const done = (error?: unknown) => {
      const labels = { method, code: connectCodeName(error === undefined ? undefined : codeOf(error)) };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
      inFlight.dec({ method });
    };
    let res;
    try {
      res = await next(req);
    } catch (error) {
      done(error);
      throw error;
    }
    if (!res.stream) {
      done();
      return res;
    }
    return { ...res, message: observeStream(res.message, done) };
  };
}

// Several interceptors (or services in one test process) may share a registry: reuse what is there.
function metric<M extends Counter | Histogram | Gauge>(registry: Registry, name: string, create: (name: string) => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create(name);
}
