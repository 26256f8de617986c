// Webhooks: POST-only paths beside the RPCs for callbacks from outside the mesh (a payment gateway's
// events). The handler gets the exact bytes sent (signatures are over them) and the headers.
import http2 from "node:http2";
import test from "ava";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createService, loadConfig, platformConfigSchema, type WebhookHandler } from "../src/index.ts";
import { WEBHOOK_MAX_BYTES } from "../src/serve/http-routes.ts";
import { testEnv, uniqueName } from "../src/testing.ts";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { startServer } from "./fixtures/serve/start.ts";
import { testRoutes } from "./fixtures/serve/test-service.ts";

interface Received {
  body: Buffer;
  headers: Headers;
}

/** A webhook that records what it was given and answers 202 with the body's length. */
function recorder(): { handler: WebhookHandler; received: Received[] } {
  const received: Received[] = [];
  return {
    received,
    handler: async (request) => {
      received.push(request);
      return { status: 202, body: `got ${request.body.length} bytes` };
    },
  };
}

test("a POST to a webhook path reaches its handler with the exact body bytes and the headers, and gets its answer", async (t) => {
  const hook = recorder();
  const { baseUrl } = await startServer(t, { server: { webhooks: { "/webhooks/test": hook.handler } } });
  // Bytes that are not valid UTF-8 must arrive untouched (signatures are computed over them).
  const body = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x7d]);
  const response = await fetch(`${baseUrl}/webhooks/test?attempt=1`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc" },
    body,
  });
  t.is(response.status, 202);
  t.is(await response.text(), "got 5 bytes");
  t.is(hook.received.length, 1);
  t.true(hook.received[0]!.body.equals(body));
  t.is(hook.received[0]!.headers.get("Stripe-Signature"), "t=1,v1=abc");
  t.is(hook.received[0]!.headers.get("content-type"), "application/json");
});

test("webhooks answer over HTTP/2 as well, without HTTP/2 pseudo-headers among the headers", async (t) => {
  const hook = recorder();
  const { baseUrl } = await startServer(t, { server: { webhooks: { "/webhooks/test": hook.handler } } });
  const session = http2.connect(baseUrl);
  t.teardown(() => session.close());
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": "/webhooks/test", "x-event": "one" });
    let status = 0;
    let text = "";
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => (text += chunk));
    stream.on("end", () => resolve({ status, text }));
    stream.on("error", reject);
    stream.end("hello over h2");
  });
  t.is(status, 202);
  t.is(text, "got 13 bytes");
  t.is(hook.received[0]!.body.toString(), "hello over h2");
  t.is(hook.received[0]!.headers.get("x-event"), "one");
  t.false([...hook.received[0]!.headers.keys()].some((name) => name.startsWith(":")));
});

test("other methods on a webhook path get 405 naming POST, and the handler is not called", async (t) => {
  const hook = recorder();
  const { baseUrl } = await startServer(t, { server: { webhooks: { "/webhooks/test": hook.handler } } });
  for (const method of ["GET", "PUT", "DELETE"]) {
    const response = await fetch(`${baseUrl}/webhooks/test`, { method });
    t.is(response.status, 405, method);
    t.is(response.headers.get("allow"), "POST");
  }
  t.is(hook.received.length, 0);
});

test("a webhook body over 1 MiB is refused with 413 before the handler sees it, whether its length is declared or streamed", async (t) => {
  const hook = recorder();
  const { baseUrl, port } = await startServer(t, { server: { webhooks: { "/webhooks/test": hook.handler } } });

  const declared = await fetch(`${baseUrl}/webhooks/test`, { method: "POST", body: Buffer.alloc(WEBHOOK_MAX_BYTES + 1, 0x61) });
  t.is(declared.status, 413);

  // Chunked (no content-length): counted while it arrives. HTTP/2 has no content-length either.
  const session = http2.connect(`http://127.0.0.1:${port}`);
  t.teardown(() => session.close());
  const status = await new Promise<number>((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": "/webhooks/test" });
    stream.on("response", (headers) => resolve(Number(headers[":status"])));
    stream.on("error", reject);
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let sent = 0;
    const pump = () => {
      while (sent <= WEBHOOK_MAX_BYTES && !stream.destroyed) {
        sent += chunk.length;
        if (!stream.write(chunk)) return void stream.once("drain", pump);
      }
      stream.end();
    };
    pump();
  });
  t.is(status, 413);

  // Exactly the limit is accepted.
  const atLimit = await fetch(`${baseUrl}/webhooks/test`, { method: "POST", body: Buffer.alloc(WEBHOOK_MAX_BYTES, 0x63) });
  t.is(atLimit.status, 202);
  t.is(hook.received.length, 1);
  t.is(hook.received[0]!.body.length, WEBHOOK_MAX_BYTES);
});

test("a handler that throws answers 500 without its message, so the sender retries and nothing leaks", async (t) => {
  const failing: WebhookHandler = async () => {
    throw new Error("database password is hunter2");
  };
  const { baseUrl } = await startServer(t, { server: { webhooks: { "/webhooks/test": failing } } });
  const response = await fetch(`${baseUrl}/webhooks/test`, { method: "POST", body: "{}" });
  t.is(response.status, 500);
  const text = await response.text();
  t.false(text.includes("hunter2"));
  t.is(text, "internal error\n");
});

test("paths that are not webhooks still reach the RPCs and the built-in routes", async (t) => {
  const hook = recorder();
  const { baseUrl } = await startServer(t, { server: { webhooks: { "/webhooks/test": hook.handler } } });
  const client = createClient(TestService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  t.is((await client.echo({ message: "still here" })).message, "still here");
  t.is((await fetch(`${baseUrl}/healthz`)).status, 200);
  const other = await fetch(`${baseUrl}/webhooks/other`, { method: "POST", body: "{}" });
  t.not(other.status, 202);
  t.is(hook.received.length, 0);
});

test("a ServiceDefinition's webhooks are served by createService beside its RPCs", async (t) => {
  const hook = recorder();
  const service = await createService(
    { name: uniqueName("pt-webhooks"), setup: () => ({ routes: testRoutes("instance-w"), webhooks: { "/webhooks/test": hook.handler } }) },
    { config: loadConfig(platformConfigSchema, testEnv) },
  );
  t.teardown(() => service.stop());
  const response = await fetch(`http://${service.address}/webhooks/test`, { method: "POST", body: "from outside" });
  t.is(response.status, 202);
  t.is(hook.received[0]!.body.toString(), "from outside");
});
