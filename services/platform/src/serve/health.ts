import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  Health as HealthService,
  HealthCheckResponse_ServingStatus as WireStatus,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
} from "@bazaar/contracts/grpc/health/v1/health_pb";
import type { Logger } from "../logger.ts";

export type ServingStatus = "SERVING" | "NOT_SERVING";

/** A readiness check: true (or a promise of true) while the dependency it watches is usable. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export interface HealthOptions {
  /**
   * Readiness checks by name (e.g. "database", "nats"). The server ("" service) is SERVING only while
   * every one passes; a check that throws or outlasts `checkTimeoutMs` fails. Default: none, so the
   * server is SERVING from the first evaluation on.
   */
  checks?: Record<string, ReadinessCheck>;
  /**
   * Non-critical checks: run and reported like the others (`degraded()`, logs) but they never make the
   * server NOT_SERVING — a dependency the service can do without for a while (NATS behind an outbox).
   */
  nonCritical?: Record<string, ReadinessCheck>;
  /** How often the checks are re-run (default 5000 ms). */
  intervalMs?: number;
  /** How long one check may take before it counts as failed (default 2000 ms). */
  checkTimeoutMs?: number;
  /** Logs status changes with the failing checks' names. Default: silent. */
  logger?: Logger;
}

export interface Health {
  /**
   * The status of `service` ("" = the whole server, the default), or undefined when the service is
   * unknown. A named service is NOT_SERVING whenever the server is.
   */
  status(service?: string): ServingStatus | undefined;
  /** Every known service's status, "" included. */
  statuses(): Record<string, ServingStatus>;
  /** Sets a named service's own status (the server's status follows the checks, not this). */
  setStatus(service: string, status: ServingStatus): void;
  /** Runs the checks now (after a run already under way) and returns the server's status. */
  refresh(): Promise<ServingStatus>;
  /** Names of the checks that failed in the last evaluation. */
  failing(): string[];
  /** Names of the non-critical checks that failed in the last evaluation (the service serves without them). */
  degraded(): string[];
  /**
   * Calls `listener` with the status of `service` whenever it changes (undefined while unknown).
   * Returns the function that stops it.
   */
  watch(service: string, listener: (status: ServingStatus | undefined) => void): () => void;
  /** Forces NOT_SERVING for good and stops the checks (the first step of a shutdown). Idempotent. */
  shutdown(): void;
  readonly isShutdown: boolean;
}

/**
 * Readiness as the gRPC health protocol, /readyz and Consul see it: the checks run at creation, every
 * `intervalMs` and on `refresh()`; until the first run completes the server is NOT_SERVING.
 */
export function createHealth(options: HealthOptions = {}): Health {
  const checks = Object.entries(options.checks ?? {});
  const nonCritical = Object.entries(options.nonCritical ?? {});
  const intervalMs = options.intervalMs ?? 5000;
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  for (const [name, check] of [...checks, ...nonCritical]) {
    if (typeof check !== "function") throw new TypeError(`createHealth: check "${name}" must be a function`);
  }
  if (!(intervalMs > 0)) throw new RangeError(`createHealth: intervalMs must be > 0 (got ${intervalMs})`);
  if (!(checkTimeoutMs > 0)) throw new RangeError(`createHealth: checkTimeoutMs must be > 0 (got ${checkTimeoutMs})`);

  let serverServing = false;
  let failingNow: string[] = checks.map(([name]) => name);
  let degradedNow: string[] = [];
  let down = false;
  let evaluated = false;
  let running: Promise<ServingStatus> | undefined;
  const own = new Map<string, ServingStatus>();
  const listeners = new Map<string, Set<(status: ServingStatus | undefined) => void>>();

  const effective = (service: string): ServingStatus | undefined => {
    const serverStatus: ServingStatus = serverServing && !down ? "SERVING" : "NOT_SERVING";
    if (service === "") return serverStatus;
    const status = own.get(service);
    if (status === undefined) return undefined;
    return serverStatus === "SERVING" ? status : "NOT_SERVING";
  };

  // Notifies watchers of every service whose effective status changed during `change`.
  const changing = (change: () => void) => {
    const before = new Map([...listeners.keys()].map((s) => [s, effective(s)]));
    change();
    for (const [service, set] of listeners) {
      const now = effective(service);
      if (now !== before.get(service)) for (const listener of [...set]) listener(now);
    }
  };

  const runCheck = async ([name, check]: [string, ReadinessCheck]): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<false>((resolve) => {
        // Not unref'd: whoever awaits refresh() gets an answer even when nothing else keeps the process up.
        timer = setTimeout(() => {
          options.logger?.debug({ check: name, checkTimeoutMs }, "readiness check timed out");
          resolve(false);
        }, checkTimeoutMs);
      });
      return (await Promise.race([Promise.resolve().then(check), timeout])) === true;
    } catch (error) {
      options.logger?.debug({ err: error, check: name }, "readiness check threw");
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  const evaluate = async (): Promise<ServingStatus> => {
    const [results, optional] = await Promise.all([Promise.all(checks.map(runCheck)), Promise.all(nonCritical.map(runCheck))]);
    const failed = checks.filter((_, i) => !results[i]).map(([name]) => name);
    const degraded = nonCritical.filter((_, i) => !optional[i]).map(([name]) => name);
    if (!down && degraded.join() !== degradedNow.join()) {
      if (degraded.length) options.logger?.warn({ degraded }, "degraded: non-critical checks failing; still serving");
      else if (degradedNow.length) options.logger?.info({ recovered: degradedNow }, "no longer degraded");
      degradedNow = degraded;
    }
    if (!down) {
      const changed = !evaluated || failed.join() !== failingNow.join();
      evaluated = true;
      changing(() => {
        serverServing = failed.length === 0;
        failingNow = failed;
      });
      if (changed) {
        if (serverServing) options.logger?.info("ready: every readiness check passes");
        else options.logger?.warn({ failing: failed }, "not ready: readiness checks failing");
      }
    }
    return effective("")!;
  };

  // One run at a time; a refresh asked for during a run gets a fresh run after it (one for all such
  // callers), so what it returns never predates the call.
  let queued: Promise<ServingStatus> | undefined;
  const refresh = (): Promise<ServingStatus> => {
    if (down) return Promise.resolve("NOT_SERVING");
    if (!running) {
      running = evaluate().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued ??= running.then(() => {
      queued = undefined;
      return refresh();
    });
    return queued;
  };

  // A slow check delays the next periodic run rather than queueing runs behind it.
  const timer = setInterval(() => {
    if (!running) void refresh();
  }, intervalMs);
  // A health object alone never keeps the process alive.
  timer.unref();
  void refresh();

  return {
    status: (service = "") => effective(service),
    statuses() {
      const all: Record<string, ServingStatus> = { "": effective("")! };
      for (const service of own.keys()) all[service] = effective(service)!;
      return all;
    },
    setStatus(service, status) {
      if (service === "") {
        throw new TypeError('health.setStatus: the server status ("") follows the readiness checks; set a named service');
      }
      if (status !== "SERVING" && status !== "NOT_SERVING") {
        throw new TypeError(`health.setStatus: status must be "SERVING" or "NOT_SERVING" (got ${String(status)})`);
      }
      changing(() => own.set(service, status));
    },
    refresh,
    failing: () => (down ? ["shutdown"] : [...failingNow]),
    degraded: () => [...degradedNow],
    watch(service, listener) {
      let set = listeners.get(service);
      if (!set) listeners.set(service, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(service) === set) listeners.delete(service);
      };
    },
    shutdown() {
      if (down) return;
      clearInterval(timer);
      changing(() => {
        down = true;
      });
      options.logger?.info("health: NOT_SERVING (shutting down)");
    },
    get isShutdown() {
      return down;
    },
  };
}

const toWire = (status: ServingStatus | undefined): HealthCheckResponse =>
  create(HealthCheckResponseSchema, {
    status: status === undefined ? WireStatus.SERVICE_UNKNOWN : WireStatus[status],
  });

/**
 * grpc.health.v1.Health over a Health. Watch sends the current status, then every change, until the
 * caller hangs up; after shutdown it sends NOT_SERVING and ends, so watches never hold up a drain.
 */
export function createHealthService(health: Health): ServiceImpl<typeof HealthService> {
  return {
    check(request) {
      const status = health.status(request.service);
      if (status === undefined) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      return toWire(status);
    },
    list() {
      const statuses = Object.fromEntries(Object.entries(health.statuses()).map(([s, status]) => [s, toWire(status)]));
      return { statuses };
    },
    async *watch(request, context) {
      const pending: (ServingStatus | undefined)[] = [];
      let wake: (() => void) | undefined;
      const nudge = () => {
        wake?.();
        wake = undefined;
      };
      const stop = health.watch(request.service, (status) => {
        pending.push(status);
        nudge();
      });
      context.signal.addEventListener("abort", nudge, { once: true });
      try {
        let last = health.status(request.service);
        yield toWire(last);
        while (!context.signal.aborted) {
          if (pending.length > 0) {
            const next = pending.shift();
            if (next !== last) yield toWire((last = next));
            continue;
          }
          if (health.isShutdown) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        stop();
        context.signal.removeEventListener("abort", nudge);
      }
    },
  };
}
