// connect-node's HTTP/2 session manager, kept from crashing the process when an upstream goes away.
// A session that receives GOAWAY while idle (an instance shutting down gracefully, as ours do) is
// destroyed by the manager, and Node raises the destroy's error a moment later, once the socket has
// closed. If a request reconnects in between, the manager has already taken its error listener off the
// old session, and that late error becomes an uncaught exception: the caller dies with its in-flight
// requests (connect-es issue #1768, still open in connect-node 2.3.0; seen as an edge that went down
// while a cart instance restarted). Every session that carried a request keeps a listener of its own.
import type http2 from "node:http2";
import { Http2SessionManager } from "@connectrpc/connect-node";

const guarded = new WeakSet<http2.Http2Session>();

// The manager has seen and handled the session's failure already (its requests failed with it).
const ignoreLateError = () => undefined;

export class GuardedHttp2SessionManager extends Http2SessionManager {
  override async request(...args: Parameters<Http2SessionManager["request"]>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session && !guarded.has(session)) {
      guarded.add(session);
      session.on("error", ignoreLateError);
    }
    return stream;
  }
}
