import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";

/** The bytes an HTTP/2 client with prior knowledge (h2c, every gRPC client) sends first. */
const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface FrontOptions {
  http1: http.Server;
  http2: http2.Http2Server;
  /** A connection that sends nothing (or less than a preface) for this long is dropped (default 10 000 ms). */
  sniffTimeoutMs?: number;
  /** TCP keep-alive probes after this much idle time find dead peers (default 60 000 ms). */
  keepAliveInitialDelayMs?: number;
}

export interface Front {
  server: net.Server;
  /** Every open connection, routed or not. */
  sockets: ReadonlySet<net.Socket>;
}

/**
 * One listening socket for both HTTP versions. Node's cleartext HTTP/2 server never falls back to
 * HTTP/1.1 (`allowHTTP1` needs TLS), so this reads the first bytes of each connection: the HTTP/2
 * preface goes to the HTTP/2 server, anything else to the HTTP/1 server.
 */
export function createFront(options: FrontOptions): Front {
  const sniffTimeoutMs = options.sniffTimeoutMs ?? 10_000;
  const sockets = new Set<net.Socket>();
  const server = net.createServer(
    { noDelay: true, keepAlive: true, keepAliveInitialDelay: options.keepAliveInitialDelayMs ?? 60_000 },
    (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      let seen: Buffer = Buffer.alloc(0);
      const drop = () => socket.destroy();
      const onData = (chunk: Buffer) => {
        seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
        const n = Math.min(seen.length, preface.length);
        const h2 = seen.subarray(0, n).equals(preface.subarray(0, n));
        if (h2 && seen.length < preface.length) return; // could still be the preface: read on
        socket.removeListener("data", onData);
        socket.removeListener("error", drop);
        socket.removeListener("timeout", drop);
        socket.setTimeout(0);
        if (h2) {
          // The HTTP/2 session reads what is already buffered in the socket before its own reads.
          socket.pause();
          socket.unshift(seen);
          options.http2.emit("connection", socket);
        } else {
          // The HTTP/1 parser reads from the socket's handle directly and never sees bytes already
          // read, so hand it the sniffed ones as the first 'data' event it listens to.
          options.http1.emit("connection", socket);
          socket.emit("data", seen);
        }
      };
      socket.on("data", onData);
      socket.on("error", drop);
      socket.setTimeout(sniffTimeoutMs, drop);
    },
  );
  return { server, sockets };
}
