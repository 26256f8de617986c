// Connections are PostgreSQL's scarcest resource on one machine: max_connections (100 by default) is
// shared by every process of the mesh, and a restarting process briefly holds two sets. The stack gives
// each service process a pool that fits, instead of letting 14 processes × 10 exhaust the server and
// turn requests into "too many clients".
import pg from "pg";

export interface PoolBudget {
  /** Connections each process may open (DB_POOL_SIZE), at least 2 and at most `ceiling`. */
  perProcess: number;
  maxConnections: number;
}

/**
 * DB_POOL_SIZE for `processes` service processes on the server at `databaseUrl`: what max_connections
 * leaves after the connections already open and a reserve (superuser slots, psql, the outbox
 * listeners, a process restarting), split evenly, between 2 and `ceiling` (default 10).
 */
export async function poolBudget(databaseUrl: string, processes: number, ceiling = 10): Promise<PoolBudget> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ max: string; reserved: string; open: string }>(
      `select current_setting('max_connections') as max, current_setting('superuser_reserved_connections') as reserved,
              (select count(*) from pg_stat_activity where backend_type = 'client backend') as open`,
    );
    const maxConnections = Number(rows[0]!.max);
    const available = maxConnections - Number(rows[0]!.reserved) - Number(rows[0]!.open);
    // One LISTEN connection per process beside its pool, and room for one process to restart.
    const perProcess = Math.floor(available / (processes + 1)) - 1;
    return { perProcess: Math.max(2, Math.min(ceiling, perProcess)), maxConnections };
  } finally {
    await client.end();
  }
}
