// What the tracing and metrics interceptors share: naming a call, reading its outcome, and noticing
// when a streaming response ends.
import { Code, ConnectError } from "@connectrpc/connect";
import { context as otelContext, type Context } from "@opentelemetry/api";

/** "package.Service/Method", the procedure name gRPC and OpenTelemetry use. */
export function procedureOf(req: { service: { typeName: string }; method: { name: string } }): string {
  return `${req.service.typeName}/${req.method.name}`;
}

/** The code a failed call ends with (what Connect itself would send for a non-Connect error). */
export function codeOf(error: unknown): Code {
  return error instanceof ConnectError ? error.code : ConnectError.from(error).code;
}

/** Connect's name of a code ("not_found"), "ok" for success. */
export function connectCodeName(code: Code | undefined): string {
  return code === undefined ? "ok" : (connectNames[code] ?? "unknown");
}

/** gRPC's canonical name of a code ("NOT_FOUND"), "OK" for success. */
export function grpcCodeName(code: Code | undefined): string {
  return code === undefined ? "OK" : (grpcNames[code] ?? "UNKNOWN");
}

const grpcNames: Record<number, string> = {};
const connectNames: Record<number, string> = {};
for (const [name, value] of Object.entries(Code)) {
  if (typeof value !== "number") continue;
  const snake = name.replace(/([a-z])([A-Z])/g, "$1_$2");
  grpcNames[value] = snake.toUpperCase();
  connectNames[value] = snake.toLowerCase();
}
grpcNames[Code.Canceled] = "CANCELLED"; // gRPC spells it the British way, Connect does not

/**
 * Passes a streaming response's messages through, calls `done` once when the stream ends (with the
 * error if it failed), and pulls each message inside `context` so the handler's work stays in its span.
 */
export async function* observeStream<T>(messages: AsyncIterable<T>, done: (error?: unknown) => void, context?: Context): AsyncIterable<T> {
  const iterator = messages[Symbol.asyncIterator]();
  const pull = () => (context ? otelContext.with(context, () => iterator.next()) : iterator.next());
  let finished = false;
  try {
    for (let result = await pull(); !result.done; result = await pull()) yield result.value;
    finished = true;
    done();
  } catch (error) {
    finished = true;
    done(error);
    throw error;
  } finally {
    // The reader stopped early (e.g. the client went away): the call ended without an error of its own.
    if (!finished) {
      done(new ConnectError("stream abandoned by its reader", Code.Canceled));
      await iterator.return?.();
    }
  }
}
