// A database connection that was lost or refused (a PostgreSQL restart, a failover, an administrator
// terminating sessions) says nothing about the request: the same request may succeed a moment later.
// Such errors are `unavailable` (retryable), never `internal`; safe reads are retried once.
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { Interceptor } from "@connectrpc/connect";

// SQLSTATE codes of a connection that is gone or cannot be had: class 08 (connection exception),
// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up / shutting down).
const lostSqlStates = /^(08...|57P0[123])$/;
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
 * A SERVER interceptor that runs a read-only unary call (`NO_SIDE_EFFECTS`) once more when it failed
 * because its database connection was lost: the pool hands the second attempt a fresh connection.
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
      return next(req);
    }
  };
}
