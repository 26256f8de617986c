// A database connection that was lost or refused (a PostgreSQL restart, a failover, an administrator
// terminating sessions) says nothing about the request: the same request may succeed a moment later.
// Such errors are `unavailable` (retryable), never `internal`; safe reads are retried once.
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";

const retryDelayMs = 50;

// SQLSTATE codes of a connection that is gone or cannot be had: class 08 (connection exception),
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up / shutting down),
// 53300 too_many_connections (the server's max_connections is reached: a connection cannot be had now).
// Not 08P01 protocol_violation: the request itself broke the protocol (e.g. a NUL in inlined SQL
// text), and repeating it would break it again.
const lostSqlStates = /^(08(?!P01)...|57P0[123]|53300)$/;
// Socket-level failures on the way to the server.
const lostErrnos = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
// node-postgres and its pool report a dead socket or an exhausted connect wait with these texts only.
const lostMessages = [
  "Connection terminated",
  "connection terminated",
  "Client has encountered a connection error and is not queryable",
  "timeout exceeded when trying to connect",
  "Connection ended unexpectedly",
  "Cannot use a pool after calling end on the pool",
];

/** Whether `error` (or an error in its `cause` chain) is a lost or refused database connection. */
export function isDatabaseConnectionLost(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    const { code, sqlState, name } = current as { code?: unknown; sqlState?: unknown; name?: string };
    if (typeof code === "string" && (lostSqlStates.test(code) || lostErrnos.has(code))) return true;
    if (typeof sqlState === "string" && lostSqlStates.test(sqlState)) return true;
    if (name === "ConnectionException") return true; // MikroORM's wrapper of class 08
    if (lostMessages.some((text) => current instanceof Error && current.message.includes(text))) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDatabaseConnectionLost(inner))) return true;
  }
  return false;
}

/**
 * A SERVER interceptor that runs a read-only unary call (`NO_SIDE_EFFECTS`) once more, 25–75 ms later,
 * when it failed because its database connection was lost: the second attempt gets a fresh connection.
 * Writes are never repeated here (they answer `unavailable`; the client decides). Place it inside the
 * errors interceptor, which sees only the final outcome.
 */
export function retryLostReadsInterceptor(): Interceptor {
  return (next) => async (req) => {
    if (req.stream || req.method.methodKind !== "unary" || req.method.idempotency !== MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS) return next(req);
    try {
      return await next(req);
    } catch (error) {
      if (!isDatabaseConnectionLost(error) || req.signal.aborted) throw error;
      // The server ends every session at once (restart, failover) but their closes arrive one by
      // one: a moment's wait lets the pool drop the other dead connections before the retry.
      await sleep(retryDelayMs * (0.5 + Math.random()), undefined, { signal: req.signal }).catch(() => undefined);
      if (req.signal.aborted) throw error;
      return next(req);
    }
  };
}

/**
 * Keeps `pool` clear of connections the server ended. PostgreSQL answers the query in flight with a
 * FATAL error (57P01 on pg_terminate_backend or shutdown) and then closes the socket:
 * - node-postgres hands such a client back to the pool before it sees the close, so the next query
 *   (a retry) would get the dead connection: it is ended on release, which makes the pool drop it;
 * - a transaction whose ROLLBACK fails on the dead connection is never released by Kysely (it
 *   releases only after a successful rollback): the pool would lose that slot for good, and its
 *   end() would wait forever at shutdown. A dead client still checked out a second after its socket
 *   closed is released here, with an error, so the pool removes it.
 */
export function retireEndedConnections(pool: pg.Pool, options: { onLeak?: (error: Error) => void } = {}): void {
  const ended = new WeakSet<pg.PoolClient>();
  const checkedOut = new WeakSet<pg.PoolClient>();
  pool.on("connect", (client) => {
    client.connection.on("errorMessage", (message: { severity?: string }) => {
      if (message.severity === "FATAL" || message.severity === "PANIC") ended.add(client as pg.PoolClient);
    });
    client.on("end", () => {
      ended.add(client as pg.PoolClient);
      if (!checkedOut.has(client as pg.PoolClient)) return;
      setTimeout(() => {
        if (!checkedOut.has(client as pg.PoolClient)) return;
        const error = new Error("database connection lost while checked out and never released; released to the pool to be removed");
        options.onLeak?.(error);
        try {
          (client as pg.PoolClient).release(error);
        } catch {
          // released meanwhile
        }
      }, 1000).unref();
    });
  });
  pool.on("acquire", (client) => checkedOut.add(client));
  pool.on("release", (_error: Error | undefined, client: pg.PoolClient) => {
    checkedOut.delete(client);
    // end() marks the client ending synchronously, which the pool checks right after this event.
    if (ended.has(client)) void client.end().catch(() => undefined);
  });
}
