// Whether the database answers, as readiness asks every few seconds. A busy pool answers it already:
// connections coming back without error prove the server works, so readiness pings only when the pool
// has been quiet. A ping queued behind a saturated pool would time out exactly when the service is
// busiest, and take it out of Consul — both instances at once under load, seen as "no passing instances".
import type pg from "pg";

export interface PoolLiveness {
  /** Whether a connection came back from a query without error within the last `withinMs`. */
  answeredWithin(withinMs: number): boolean;
}

export function watchPoolLiveness(pool: pg.Pool): PoolLiveness {
  let lastAnswer = Number.NEGATIVE_INFINITY;
  pool.on("release", (error: Error | undefined) => {
    if (!error) lastAnswer = performance.now();
  });
  return { answeredWithin: (withinMs) => performance.now() - lastAnswer < withinMs };
}
