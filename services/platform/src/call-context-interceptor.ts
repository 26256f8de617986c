// Server interceptor: runs the rest of the call (inner interceptors and the handler) inside a call context
// holding the call's signal and deadline, so outgoing calls made on its behalf inherit both.
import type { Interceptor, StreamResponse } from "@connectrpc/connect";
import { parseTimeout } from "@connectrpc/connect/protocol-grpc";
import { runInCallContext, type CallContext } from "./call-context.ts";

/**
 * Put it first (outermost) in the server's interceptors: interceptors after it (auth, which sets
 * `principal`) and the handler see `currentCall()`. The signal is Connect's own for the call: it aborts
 * when the client hangs up, the deadline passes, or the call ends.
 */
export function callContextInterceptor(): Interceptor {
  return (next) => async (req) => {
    const timeoutMs = requestTimeoutMs(req.header);
    const context: CallContext = { signal: req.signal, ...(timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs }) };
    const res = await runInCallContext(context, () => next(req));
    // A streaming handler's body runs as its messages are read, outside this frame: bind each read.
    return res.stream ? { ...res, message: bindIterable(context, res.message) } as StreamResponse : res;
  };
}

/** The timeout the client sent: gRPC and gRPC-Web "grpc-timeout", Connect "connect-timeout-ms". */
function requestTimeoutMs(header: Headers): number | undefined {
  const grpc = header.get("grpc-timeout");
  if (grpc !== null) return parseTimeout(grpc, Number.MAX_SAFE_INTEGER).timeoutMs;
  const connect = header.get("connect-timeout-ms");
  if (connect !== null && /^\d{1,10}$/.test(connect)) return Number(connect);
  // Connect rejects malformed values itself, before the handler runs.
  return undefined;
}

function bindIterable<T>(context: CallContext, iterable: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = runInCallContext(context, () => iterable[Symbol.asyncIterator]());
      return {
        next: (...args: [] | [unknown]) => runInCallContext(context, () => it.next(...args)),
        ...(it.return ? { return: (value?: unknown) => runInCallContext(context, () => it.return!(value)) } : {}),
        ...(it.throw ? { throw: (error?: unknown) => runInCallContext(context, () => it.throw!(error)) } : {}),
      };
    },
  };
}
