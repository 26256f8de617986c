// The errors interceptor through a real connect-node server (HTTP/1.1, port 0) and a Connect client.
import test, { type ExecutionContext } from "ava";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, ConnectError, createClient, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "@bazaar/contracts/google/rpc/error_details_pb";
import { Health, HealthCheckResponse_ServingStatus } from "@bazaar/contracts/grpc/health/v1/health_pb";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../src/errors.ts";
import { createLogger } from "../src/logger.ts";
import { errorsInterceptor, violations } from "../src/errors-interceptor.ts";

interface LogLine {
  level: string;
  msg: string;
  err?: { message: string; stack: string; type: string };
  [key: string]: unknown;
}

function captureLogger() {
  const lines: LogLine[] = [];
  const logger = createLogger({ service: "errors-test", level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  return { logger, lines };
}

async function serve(t: ExecutionContext, routes: (router: ConnectRouter) => void, interceptors: Interceptor[]): Promise<string> {
  const server = http.createServer(connectNodeAdapter({ routes, interceptors }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const failures: Record<string, () => never> = {
  not_found: () => { throw new NotFoundError("product 42 not found"); },
  already_exists: () => { throw new AlreadyExistsError("a review by this user exists"); },
  failed_precondition: () => { throw new FailedPreconditionError("order already shipped", { reason: "ORDER_SHIPPED" }); },
  conflict: () => { throw new ConflictError("etag mismatch"); },
  unauthenticated: () => { throw new UnauthenticatedError("sign in"); },
  permission_denied: () => { throw new PermissionDeniedError("not yours"); },
  resource_exhausted: () => { throw new ResourceExhaustedError("slow down", { retryAfterMs: 1500, reason: "RATE_LIMITED" }); },
  unavailable: () => { throw new UnavailableError("payment provider down", { cause: new Error("ECONNREFUSED 10.0.0.7:443") }); },
  invalid_argument: () => {
    const v = violations();
    v.check(false, "lines[0].quantity", "must be positive");
    v.check(true, "currency", "never recorded");
    v.check("", "email", "is required");
    v.throwIfAny();
    throw new Error("unreachable");
  },
  connect_error: () => { throw new ConnectError("kept as is", Code.OutOfRange, { "x-detail": "yes" }); },
  crash: () => { (null as unknown as { boom(): void }).boom(); throw new Error("unreachable"); },
};

async function setup(t: ExecutionContext) {
  const { logger, lines } = captureLogger();
  // Settles when the server has finished with a call (its outcome mapped and logged).
  const handled: Promise<unknown>[] = [];
  const track: Interceptor = (next) => (req) => {
    const outcome = next(req);
    handled.push(outcome.catch(() => {}));
    return outcome;
  };
  const baseUrl = await serve(
    t,
    (router) => {
      router.service(TestService, {
        fail: (req) => failures[req.kind]!(),
        async wait(req, ctx) {
          await sleep(Number(req.durationMs), undefined, { signal: ctx.signal });
          return {};
        },
      });
      router.service(Health, {
        async *watch() {
          yield { status: HealthCheckResponse_ServingStatus.SERVING };
          throw new NotFoundError("unknown service");
        },
      });
    },
    [track, errorsInterceptor({ logger })],
  );
  const transport = createConnectTransport({ baseUrl, httpVersion: "1.1" });
  return { client: createClient(TestService, transport), health: createClient(Health, transport), lines, handled };
}

async function failWith(client: Awaited<ReturnType<typeof setup>>["client"], kind: string): Promise<ConnectError> {
  try {
    await client.fail({ kind });
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error(`Fail(${kind}) succeeded`);
}

test("each domain error reaches the client as its Connect code with the domain message", async (t) => {
  const { client } = await setup(t);
  const expected: [string, Code, string][] = [
    ["not_found", Code.NotFound, "product 42 not found"],
    ["already_exists", Code.AlreadyExists, "a review by this user exists"],
    ["failed_precondition", Code.FailedPrecondition, "order already shipped"],
    ["conflict", Code.Aborted, "etag mismatch"],
    ["unauthenticated", Code.Unauthenticated, "sign in"],
    ["permission_denied", Code.PermissionDenied, "not yours"],
    ["resource_exhausted", Code.ResourceExhausted, "slow down"],
    ["unavailable", Code.Unavailable, "payment provider down"],
  ];
  for (const [kind, code, message] of expected) {
    const error = await failWith(client, kind);
    t.is(error.code, code, kind);
    t.is(error.rawMessage, message, kind);
  }
});

test("invalid_argument carries every field violation as a google.rpc.BadRequest detail", async (t) => {
  const { client } = await setup(t);
  const error = await failWith(client, "invalid_argument");
  t.is(error.code, Code.InvalidArgument);
  const [badRequest, ...more] = error.findDetails(BadRequestSchema);
  t.is(more.length, 0);
  t.deepEqual(
    badRequest?.fieldViolations.map((v) => [v.field, v.description]),
    [
      ["lines[0].quantity", "must be positive"],
      ["email", "is required"],
    ],
  );
});

test("a reason becomes google.rpc.ErrorInfo in the bazaar domain, and retryAfterMs a google.rpc.RetryInfo", async (t) => {
  const { client } = await setup(t);
  const exhausted = await failWith(client, "resource_exhausted");
  const [info] = exhausted.findDetails(ErrorInfoSchema);
  t.is(info?.reason, "RATE_LIMITED");
  t.is(info?.domain, "bazaar");
  const [retry] = exhausted.findDetails(RetryInfoSchema);
  t.is(retry?.retryDelay?.seconds, 1n);
  t.is(retry?.retryDelay?.nanos, 500_000_000);

  const precondition = await failWith(client, "failed_precondition");
  t.is(precondition.findDetails(ErrorInfoSchema)[0]?.reason, "ORDER_SHIPPED");
  t.deepEqual(precondition.findDetails(RetryInfoSchema), []);
  // No reason, no ErrorInfo.
  t.deepEqual((await failWith(client, "not_found")).findDetails(ErrorInfoSchema), []);
});

test("a domain error's cause stays on the server", async (t) => {
  const { client } = await setup(t);
  const error = await failWith(client, "unavailable");
  t.false(JSON.stringify({ message: error.message, details: error.details }).includes("ECONNREFUSED"));
});

test("a ConnectError thrown by a handler passes through unchanged", async (t) => {
  const { client } = await setup(t);
  const error = await failWith(client, "connect_error");
  t.is(error.code, Code.OutOfRange);
  t.is(error.rawMessage, "kept as is");
  t.is(error.metadata.get("x-detail"), "yes");
});

test("an unexpected TypeError reaches the client as a generic internal error, while the log keeps its message and stack", async (t) => {
  const { client, lines } = await setup(t);
  const error = await failWith(client, "crash");
  t.is(error.code, Code.Internal);
  t.is(error.rawMessage, "internal error");
  t.deepEqual(error.details, []);
  const seen = JSON.stringify({ message: error.message, metadata: [...error.metadata], details: error.details });
  t.false(seen.includes("boom"), seen);
  t.false(seen.includes("TypeError"), seen);
  t.false(seen.includes("errors.test.ts"), seen);

  const logged = lines.find((line) => line.msg === "unexpected error");
  t.truthy(logged);
  t.is(logged!.level, "error");
  t.is(logged!.err?.type, "TypeError");
  t.regex(logged!.err!.message, /boom/);
  t.regex(logged!.err!.stack, /errors\.test\.ts/);
  t.is(logged!.procedure, "bazaar.platformtest.v1.TestService/Fail");
});

test("a handler stopped by the caller's deadline reports deadline_exceeded, not an internal error", async (t) => {
  const { client, lines, handled } = await setup(t);
  const error = await t.throwsAsync(client.wait({ durationMs: 10_000n }, { timeoutMs: 200 }), { instanceOf: ConnectError });
  t.is(error?.code, Code.DeadlineExceeded);
  // The server finishes after the client gave up: wait until it has (a handler ignoring the signal would time the test out).
  await Promise.all(handled);
  t.is(handled.length, 1);
  t.false(lines.some((line) => line.msg === "unexpected error"), JSON.stringify(lines));
});

test("an error thrown by a streaming handler mid-stream is mapped too", async (t) => {
  const { health } = await setup(t);
  const received: number[] = [];
  const error = await t.throwsAsync(
    (async () => {
      for await (const message of health.watch({ service: "" })) received.push(message.status);
    })(),
    { instanceOf: ConnectError },
  );
  t.deepEqual(received, [HealthCheckResponse_ServingStatus.SERVING]);
  t.is(error?.code, Code.NotFound);
  t.is(error?.rawMessage, "unknown service");
});

test("violations() throws nothing when every check passes, and InvalidArgumentError listing all failures otherwise", (t) => {
  const ok = violations();
  t.true(ok.check(1, "a", "x"));
  t.notThrows(() => ok.throwIfAny());

  const bad = violations();
  t.false(bad.check(0, "a", "must be set"));
  bad.add("b", "is too long");
  const error = t.throws(() => bad.throwIfAny(), { instanceOf: InvalidArgumentError });
  t.deepEqual(error?.violations, [
    { field: "a", description: "must be set" },
    { field: "b", description: "is too long" },
  ]);
  t.is(error?.message, "a: must be set; b: is too long");
});
