import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { create, fromBinary, toBinary, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  EchoRequestSchema,
  EchoResponseSchema,
  TestService,
  WaitRequestSchema,
  WaitResponseSchema,
  type EchoRequest,
  type EchoResponse,
  type WaitRequest,
  type WaitResponse,
} from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { eventually } from "../src/testing.ts";
import { startServer } from "./fixtures/serve/start.ts";

test("close lets an in-flight Wait finish while refusing new connections", async (t) => {
  const { baseUrl, server, health } = await startServer(t);
  await health.refresh();
  const client = createClient(TestService, createGrpcTransport({ baseUrl }));
  const waiting = client.wait({ durationMs: 500n });
  await eventually("the call to be in flight", () => server.inFlight() === 1);

  const closing = server.close({ graceMs: 10_000 });
  t.is(health.status(), "NOT_SERVING", "close reports NOT_SERVING first");
  // A new connection is refused at once, while the call above is still running.
  const refused = await fetch(`${baseUrl}/healthz`).then(
    () => undefined,
    (error: unknown) => (error as { cause?: { code?: string } }).cause?.code,
  );
  t.is(refused, "ECONNREFUSED");
  t.is(server.inFlight(), 1);

  const response = await waiting;
  t.false(response.aborted, "the call ran to its end, undisturbed");
  t.is(response.instanceId, "instance-a");
  await closing;
  t.is(server.inFlight(), 0);
});

test("during close a gRPC client's new calls on its open connection fail as UNAVAILABLE (safe to retry) while its in-flight call completes", async (t) => {
  const { port, server } = await startServer(t);
  type Unary<I, O> = (request: I, callback: (error: grpc.ServiceError | null, response?: O) => void) => grpc.ClientUnaryCall;
  const method = <I extends Message, O extends Message>(name: string, input: GenMessage<I>, output: GenMessage<O>) => ({
    path: `/bazaar.platformtest.v1.TestService/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (message: I) => Buffer.from(toBinary(input, message)),
    requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes),
    responseSerialize: (message: O) => Buffer.from(toBinary(output, message)),
    responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes),
  });
  const Client = grpc.makeGenericClientConstructor(
    { Echo: method("Echo", EchoRequestSchema, EchoResponseSchema), Wait: method("Wait", WaitRequestSchema, WaitResponseSchema) },
    "TestService",
  );
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Echo: Unary<EchoRequest, EchoResponse>;
    Wait: Unary<WaitRequest, WaitResponse>;
  };
  t.teardown(() => client.close());
  const promised = <I, O>(fn: Unary<I, O>, request: I) =>
    new Promise<O>((resolve, reject) => fn.call(client, request, (error, response) => (error ? reject(error) : resolve(response!))));

  await promised(client.Echo, create(EchoRequestSchema, { message: "warm up the connection" }));
  const waiting = promised(client.Wait, create(WaitRequestSchema, { durationMs: 500n }));
  await eventually("the call to be in flight", () => server.inFlight() === 1);
  const closing = server.close({ graceMs: 10_000 });
  // Once the client has heard the GOAWAY, its channel leaves READY: new calls cannot use this connection,
  // and no new one is accepted.
  await eventually("the client to hear the GOAWAY", () => client.getChannel().getConnectivityState(false) !== grpc.connectivityState.READY);
  const error = await t.throwsAsync<grpc.ServiceError>(promised(client.Echo, create(EchoRequestSchema, { message: "too late" })));
  t.is(error?.code, grpc.status.UNAVAILABLE);
  t.false((await waiting).aborted, "the in-flight call completed normally");
  await closing;
});

test("during close an in-flight HTTP/1.1 request completes and its kept-alive connection is then closed", async (t) => {
  const { port, server } = await startServer(t);
  const agent = new http.Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const body = JSON.stringify({ durationMs: 300 });
  let socketClosed = false;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        agent,
        method: "POST",
        path: "/bazaar.platformtest.v1.TestService/Wait",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    request.on("socket", (socket) => socket.once("close", () => (socketClosed = true)));
    request.on("error", reject);
    request.end(body);
  });
  await eventually("the call to be in flight", () => server.inFlight() === 1);
  const closing = server.close({ graceMs: 10_000 });
  const { status, text } = await response;
  t.is(status, 200);
  t.is((JSON.parse(text) as { aborted?: boolean }).aborted, undefined, "not aborted (false is omitted in JSON)");
  await eventually("the server closed the idle keep-alive connection", () => socketClosed);
  await closing;
});

test("when the grace period ends, calls still running fail as UNAVAILABLE and their handlers see the signal abort", async (t) => {
  let handlerSawAbort = false;
  const { baseUrl, server } = await startServer(t, {
    routes: (router) =>
      router.service(TestService, {
        async wait(_, context) {
          await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
          handlerSawAbort = true;
          return { aborted: true };
        },
      }),
  });
  const client = createClient(TestService, createGrpcTransport({ baseUrl }));
  const waiting = client.wait({ durationMs: 30_000n });
  await eventually("the call to be in flight", () => server.inFlight() === 1);
  await server.close({ graceMs: 200 });
  const error = await t.throwsAsync(waiting);
  t.is(ConnectError.from(error).code, Code.Unavailable);
  t.true(handlerSawAbort);
  t.is(server.inFlight(), 0);
});

test("when the grace period ends, a handler that ignores its signal is cut off and its caller gets UNAVAILABLE", async (t) => {
  const { baseUrl, server } = await startServer(t, {
    routes: (router) =>
      router.service(TestService, {
        async wait() {
          await sleep(30_000, undefined, { ref: false });
          return {};
        },
      }),
  });
  const client = createClient(TestService, createGrpcTransport({ baseUrl }));
  const waiting = client.wait({ durationMs: 30_000n });
  await eventually("the call to be in flight", () => server.inFlight() === 1);
  await server.close({ graceMs: 200 });
  const error = await t.throwsAsync(waiting);
  t.is(ConnectError.from(error).code, Code.Unavailable);
});

test("close is idempotent and listen after close is refused", async (t) => {
  const { server } = await startServer(t);
  const first = server.close({ graceMs: 100 });
  t.is(server.close({ graceMs: 5000 }), first);
  await first;
  await t.throwsAsync(server.listen(), { message: /after close/ });
});
