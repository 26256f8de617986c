// An upstream that says GOAWAY to an idle session (as every instance does when it stops) while a request
// is about to go out must cost that request at most a reconnect — never the calling process. connect-node
// 2.3.0's own manager raises the destroyed session's late error as an uncaught exception (connect-es
// #1768); the platform's pools use the guarded one. Serial: each test swaps the process's
// uncaughtException listeners to see what would have crashed it.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import test from "ava";
import { Http2SessionManager } from "@connectrpc/connect-node";
import { GuardedHttp2SessionManager } from "../src/clients/guarded-session-manager.ts";

/** An HTTP/2 server that answers every stream with 200 and then, the session idle, says GOAWAY (NO_ERROR). */
async function goAwayWhenIdle(t: { teardown(fn: () => void): void }): Promise<string> {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    const session = stream.session!;
    stream.respond({ ":status": 200 });
    stream.end("ok");
    stream.once("close", () => session.close());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET through `manager`; `onSession` sees the session it went on before the answer is read. */
async function get(manager: Http2SessionManager, onSession?: (session: http2.Http2Session) => void): Promise<number> {
  const stream = await manager.request("GET", "/", {}, {});
  onSession?.(stream.session!);
  stream.end();
  const status = await new Promise<number>((resolve, reject) => {
    stream.once("response", (headers) => resolve(Number(headers[":status"])));
    stream.once("error", reject);
  });
  stream.resume();
  await new Promise((resolve) => stream.once("close", resolve));
  return status;
}

/**
 * One request, then — at the moment the upstream's GOAWAY arrives on the now idle session, after the
 * manager has destroyed it — the next request. Resolves with that request's status and any uncaught
 * exception raised meanwhile.
 */
async function requestDuringGoAway(manager: Http2SessionManager): Promise<{ status: number; uncaught: unknown[] }> {
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);
  // ava fails a test file on any uncaught exception: listen first, to report it as this test's finding.
  const previous = process.listeners("uncaughtException");
  process.removeAllListeners("uncaughtException");
  process.on("uncaughtException", record);
  try {
    let next: Promise<number> | undefined;
    // The manager's own goaway listener (it destroys the idle session) runs first: it was added first.
    t200(await get(manager, (session) => session.once("goaway", () => (next = get(manager)))));
    const status = await waitFor(() => next);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the late error comes once the old socket has closed
    return { status, uncaught };
  } finally {
    process.removeListener("uncaughtException", record);
    for (const listener of previous) process.on("uncaughtException", listener);
  }
}

function t200(status: number): void {
  if (status !== 200) throw new Error(`the first request was answered ${status}`);
}

async function waitFor<T>(value: () => Promise<T> | undefined): Promise<T> {
  for (let i = 0; i < 100 && !value(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  const promise = value();
  if (!promise) throw new Error("no GOAWAY arrived within 2 s");
  return promise;
}

test.serial("connect-node's own session manager: the late error of the session it replaced is an uncaught exception (what the guard is for)", async (t) => {
  const manager = new Http2SessionManager(await goAwayWhenIdle(t));
  t.teardown(() => manager.abort());
  const { status, uncaught } = await requestDuringGoAway(manager);
  t.is(status, 200);
  t.is(uncaught.length, 1, "if this fails, connect-node has fixed connect-es #1768 and the guard can go");
  t.regex(String(uncaught[0]), /GOAWAY/);
});

test.serial("the guarded session manager: the request during the GOAWAY reconnects and succeeds, and nothing is uncaught", async (t) => {
  const manager = new GuardedHttp2SessionManager(await goAwayWhenIdle(t));
  t.teardown(() => manager.abort());
  const { status, uncaught } = await requestDuringGoAway(manager);
  t.is(status, 200);
  t.deepEqual(uncaught.map(String), []);
});
