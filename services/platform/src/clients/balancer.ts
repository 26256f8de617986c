// Which instance takes the next attempt: the less busy of two (one in rotation, one at random), skipping
// instances ejected after repeated connection failures. Pure bookkeeping, no I/O, so it is cheap per call
// and testable with a clock.

/** What the balancer needs of an instance: a stable id (Consul's service id) and where to reach it. */
export interface BalancedInstance {
  id: string;
  url: string;
}

export interface BalancerOptions {
  /** Consecutive connection failures that eject an instance. Default 3. */
  ejectAfterFailures?: number;
  /** Cooldown of a first ejection; doubles with each ejection in a row. Default 1 000 ms. */
  ejectionBaseMs?: number;
  /** Longest cooldown. Default 30 000 ms. */
  ejectionMaxMs?: number;
  /** Clock and dice, replaceable in tests. */
  now?: () => number;
  random?: () => number;
}

export interface Endpoint<I extends BalancedInstance = BalancedInstance> {
  readonly instance: I;
  /** Attempts under way on this instance. */
  inFlight: number;
  /** Connection failures since the last call that reached the instance. */
  consecutiveFailures: number;
  /** Ejections in a row (reset once a call reaches it again): sets the next cooldown. */
  ejections: number;
  /** When it was last ejected and until when it stays out (epoch ms). */
  ejectedAt: number | undefined;
  ejectedUntil: number | undefined;
  /** Gone from discovery; kept only until its last attempt finishes. */
  removed: boolean;
}

export interface EndpointSnapshot {
  id: string;
  url: string;
  inFlight: number;
  ejected: boolean;
  /** Epoch ms at which an ejected instance is tried again. */
  ejectedUntil?: number;
}

export interface Balancer<I extends BalancedInstance = BalancedInstance> {
  /** Replaces the instance set; instances that stay keep their state, new ones start clean. */
  setInstances(instances: readonly I[]): { removed: Endpoint<I>[] };
  /**
   * The endpoint for the next attempt, preferring ones not in `avoid` (already tried by this call).
   * When every instance is ejected, the least recently ejected one. Undefined only when there are none.
   */
  pick(avoid?: ReadonlySet<string>): Endpoint<I> | undefined;
  /** A call reached the instance (whatever it answered): its failure count and ejections reset. */
  reached(endpoint: Endpoint<I>): void;
  /** A call could not reach the instance or lost the connection; may eject it. */
  connectionFailed(endpoint: Endpoint<I>): void;
  size(): number;
  snapshot(): EndpointSnapshot[];
}

export function createBalancer<I extends BalancedInstance>(options: BalancerOptions = {}): Balancer<I> {
  const ejectAfter = options.ejectAfterFailures ?? 3;
  const baseMs = options.ejectionBaseMs ?? 1_000;
  const maxMs = options.ejectionMaxMs ?? 30_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  if (!Number.isInteger(ejectAfter) || ejectAfter < 1) throw new TypeError(`ejectAfterFailures must be an integer >= 1, got ${ejectAfter}`);
  if (!(baseMs >= 0) || !(maxMs >= baseMs)) throw new TypeError(`need 0 <= ejectionBaseMs (${baseMs}) <= ejectionMaxMs (${maxMs})`);

  let endpoints: Endpoint<I>[] = [];
  let cursor = 0;

  const isEjected = (e: Endpoint<I>, t: number) => e.ejectedUntil !== undefined && e.ejectedUntil > t;

  function eject(e: Endpoint<I>) {
    const t = now();
    e.ejections += 1;
    e.consecutiveFailures = 0;
    e.ejectedAt = t;
    e.ejectedUntil = t + Math.min(maxMs, baseMs * 2 ** (e.ejections - 1));
  }

  function lessBusy(candidates: Endpoint<I>[]): Endpoint<I> {
    // One in rotation (even spread when idle) against one at random (power of two choices under load).
    const first = candidates[cursor++ % candidates.length]!;
    if (candidates.length === 1) return first;
    const other = candidates[Math.floor(random() * candidates.length)]!;
    return other.inFlight < first.inFlight ? other : first;
  }

  return {
    setInstances(instances) {
      const byId = new Map(endpoints.map((e) => [e.instance.id, e]));
      const next: Endpoint<I>[] = [];
      for (const instance of instances) {
        const existing = byId.get(instance.id);
        if (existing && existing.instance.url === instance.url) {
          byId.delete(instance.id);
          next.push(existing);
        } else {
          next.push({ instance, inFlight: 0, consecutiveFailures: 0, ejections: 0, ejectedAt: undefined, ejectedUntil: undefined, removed: false });
        }
      }
      const removed = [...byId.values()];
      for (const e of removed) e.removed = true;
      endpoints = next;
      return { removed };
    },

    pick(avoid) {
      if (endpoints.length === 0) return undefined;
      const t = now();
      const healthy = endpoints.filter((e) => !isEjected(e, t));
      const fresh = avoid?.size ? healthy.filter((e) => !avoid.has(e.instance.id)) : healthy;
      if (fresh.length > 0) return lessBusy(fresh);
      if (healthy.length > 0) return lessBusy(healthy);
      // Never eject everything for good: the instance that has been out longest gets the call.
      return endpoints.reduce((a, b) => ((b.ejectedAt ?? 0) < (a.ejectedAt ?? 0) ? b : a));
    },

    reached(e) {
      e.consecutiveFailures = 0;
      e.ejections = 0;
      e.ejectedAt = undefined;
      e.ejectedUntil = undefined;
    },

    connectionFailed(e) {
      // Failures of attempts that were under way when it was ejected say nothing new.
      if (isEjected(e, now())) return;
      // An instance back from a cooldown that fails again goes straight back out, for longer.
      if (e.ejections > 0 || ++e.consecutiveFailures >= ejectAfter) eject(e);
    },

    size: () => endpoints.length,

    snapshot() {
      const t = now();
      return endpoints.map((e) => ({
        id: e.instance.id,
        url: e.instance.url,
        inFlight: e.inFlight,
        ejected: isEjected(e, t),
        ...(isEjected(e, t) ? { ejectedUntil: e.ejectedUntil! } : {}),
      }));
    },
  };
}
