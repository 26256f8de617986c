import test from "ava";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as v1 from "@bazaar/contracts/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "@bazaar/contracts/grpc/reflection/v1alpha/reflection_pb";
import { TestService } from "./gen/bazaar/platformtest/v1/test_service_pb.ts";
import { fixtureFileName, ReflectionFixtureService } from "./fixtures/serve/reflection-fixture.ts";
import { startServer } from "./fixtures/serve/start.ts";
import { testServiceImpl } from "./fixtures/serve/test-service.ts";

const routes = (router: ConnectRouter) => {
  router.service(TestService, testServiceImpl("instance-a"));
  router.service(ReflectionFixtureService, {});
};

type RequestInit = Parameters<typeof create<typeof v1.ServerReflectionRequestSchema>>[1];

/** Sends `requests` on one reflection stream and returns the responses in order. */
async function ask(baseUrl: string, requests: RequestInit[]): Promise<v1.ServerReflectionResponse[]> {
  const client = createClient(v1.ServerReflection, createGrpcTransport({ baseUrl }));
  const out: v1.ServerReflectionResponse[] = [];
  async function* input() {
    for (const r of requests) yield create(v1.ServerReflectionRequestSchema, r);
  }
  for await (const response of client.serverReflectionInfo(input())) out.push(response);
  return out;
}

const fileNames = (response: v1.ServerReflectionResponse) =>
  response.messageResponse.case === "fileDescriptorResponse"
    ? response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name)
    : [];

test("list_services names every served service, health and reflection included, on v1 and v1alpha", async (t) => {
  const { baseUrl } = await startServer(t, { routes });
  const expected = [
    "bazaar.platformtest.v1.ReflectionFixtureService",
    "bazaar.platformtest.v1.TestService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
  ];
  const [response] = await ask(baseUrl, [{ host: "h", messageRequest: { case: "listServices", value: "" } }]);
  t.is(response?.messageResponse.case, "listServicesResponse");
  if (response?.messageResponse.case !== "listServicesResponse") return;
  t.deepEqual(response.messageResponse.value.service.map((s) => s.name), expected);
  t.is(response.validHost, "h");
  t.is(response.originalRequest?.messageRequest.case, "listServices");

  const alpha = createClient(v1alpha.ServerReflection, createGrpcTransport({ baseUrl }));
  async function* one() {
    yield create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
  }
  const names: string[] = [];
  for await (const r of alpha.serverReflectionInfo(one())) {
    if (r.messageResponse.case === "listServicesResponse") names.push(...r.messageResponse.value.service.map((s) => s.name));
  }
  t.deepEqual(names, expected);
});

test("file_containing_symbol returns the file with its dependencies transitively, each dependency once per stream", async (t) => {
  const { baseUrl } = await startServer(t, { routes });
  const [first, second] = await ask(baseUrl, [
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.ReflectionFixtureService" } },
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.ThingCreated" } },
  ]);
  t.deepEqual(fileNames(first!), [
    fixtureFileName,
    "bazaar/platformtest/v1/test_service.proto",
    "bazaar/platformtest/v1/events.proto",
    "google/protobuf/timestamp.proto",
  ]);
  // The file asked for always comes back; its import (timestamp.proto) was sent already.
  t.deepEqual(fileNames(second!), ["bazaar/platformtest/v1/events.proto"]);
});

test("the returned files build a complete registry on the client, as grpcurl needs", async (t) => {
  const { baseUrl } = await startServer(t, { routes });
  const [response] = await ask(baseUrl, [{ messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.ReflectionFixtureService.LastThing" } }]);
  if (response?.messageResponse.case !== "fileDescriptorResponse") return t.fail("expected files");
  const files = response.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
  // Like grpcurl: start from the file asked for and resolve each import among the files received.
  const registry = createFileRegistry(files[0]!, (name) => files.find((f) => f.name === name));
  const method = registry.getService("bazaar.platformtest.v1.ReflectionFixtureService")?.methods[0];
  t.is(method?.input.typeName, "bazaar.platformtest.v1.EchoRequest");
  t.is(method?.output.typeName, "bazaar.platformtest.v1.ThingCreated");
  t.is(method?.output.fields.find((f) => f.name === "occurred_at")?.message?.typeName, "google.protobuf.Timestamp");
  // The RPC options travel too (idempotency_level on Echo enables retries and GET).
  const echo = registry.getService("bazaar.platformtest.v1.TestService")?.methods.find((m) => m.name === "Echo");
  t.is(echo?.idempotency, 1 /* NO_SIDE_EFFECTS */);
});

test("methods, nested messages, enums and file names resolve; unknown names get NOT_FOUND", async (t) => {
  const { baseUrl } = await startServer(t, { routes });
  const responses = await ask(baseUrl, [
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.ReflectionFixtureService.LastThing" } },
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.FixtureEnvelope.Inner" } },
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.FixtureCode" } },
    { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health.Watch" } },
    { messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" } },
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.NoSuchThing" } },
    { messageRequest: { case: "fileByFilename", value: "bazaar/nothing.proto" } },
    { messageRequest: { case: "fileContainingSymbol", value: "bazaar.platformtest.v1.TestService.NoSuchMethod" } },
  ]);
  t.is(responses.length, 8);
  t.is(fileNames(responses[0]!)[0], fixtureFileName);
  t.is(fileNames(responses[1]!)[0], fixtureFileName);
  t.is(fileNames(responses[2]!)[0], fixtureFileName);
  t.is(fileNames(responses[3]!)[0], "grpc/health/v1/health.proto");
  t.deepEqual(fileNames(responses[4]!), ["google/protobuf/timestamp.proto"]);
  for (const response of responses.slice(5)) {
    t.is(response.messageResponse.case, "errorResponse");
    if (response.messageResponse.case === "errorResponse") {
      t.is(response.messageResponse.value.errorCode, 5 /* NOT_FOUND */);
      t.regex(response.messageResponse.value.errorMessage, /not found/);
    }
  }
});
