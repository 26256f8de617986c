// Malformed protobuf binary requests — truncated, a bad varint, a bad wire type, invalid UTF-8 in a
// string — are invalid_argument in every protocol the server speaks, never internal; and a good one
// still works. Raw HTTP, so nothing in between could have fixed the bytes.
import { gzipSync } from "node:zlib";
import test from "ava";
import { grpcEnvelope, rawGrpcStatus, rawGrpcWebStatus } from "../src/testing.ts";
import { startServer } from "./fixtures/serve/start.ts";

const path = "/bazaar.platformtest.v1.TestService/Echo";

// EchoRequest { string message = 1 }
const malformedBodies: Record<string, Uint8Array> = {
  truncated: Uint8Array.of(0x0a, 0x0a, 0x41, 0x42), // promises 10 bytes, has 2
  "bad varint": Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // 11-byte varint
  "bad wire type": Uint8Array.of(0x0f, 0x00), // wire type 7 does not exist
  "invalid UTF-8": Uint8Array.of(0x0a, 0x02, 0xc3, 0x28),
};
const good = Uint8Array.of(0x0a, 0x02, 0x68, 0x69); // message: "hi"

async function connectPost(baseUrl: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(baseUrl + path, { method: "POST", headers: { "content-type": "application/proto", ...headers }, body });
  const text = await response.text();
  return { status: response.status, code: response.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as { code?: string }).code : "ok" };
}

test("malformed Connect binary bodies (plain and gzip) are invalid_argument (400), a good one is answered", async (t) => {
  const { baseUrl } = await startServer(t);
  for (const [name, body] of Object.entries(malformedBodies)) {
    t.deepEqual(await connectPost(baseUrl, body), { status: 400, code: "invalid_argument" }, name);
    t.deepEqual(await connectPost(baseUrl, gzipSync(body), { "content-encoding": "gzip" }), { status: 400, code: "invalid_argument" }, `${name}, gzip`);
  }
  t.deepEqual(await connectPost(baseUrl, good), { status: 200, code: "ok" });
});

test("malformed binary in a Connect GET is invalid_argument", async (t) => {
  const { baseUrl } = await startServer(t);
  for (const [name, body] of Object.entries(malformedBodies)) {
    const query = `?connect=v1&encoding=proto&base64=1&message=${Buffer.from(body).toString("base64url")}`;
    const response = await fetch(baseUrl + path + query);
    t.is(response.status, 400, name);
    t.is(((await response.json()) as { code: string }).code, "invalid_argument", name);
  }
});

test("malformed gRPC and gRPC-Web messages get grpc-status 3 (invalid_argument), good ones 0", async (t) => {
  const { baseUrl } = await startServer(t);
  for (const [name, body] of Object.entries(malformedBodies)) {
    t.is(await rawGrpcStatus(baseUrl, path, grpcEnvelope(body)), "3", `gRPC, ${name}`);
    t.is(await rawGrpcStatus(baseUrl, path, grpcEnvelope(gzipSync(body), 1), { "content-type": "application/grpc+proto", "grpc-encoding": "gzip" }), "3", `gRPC gzip, ${name}`);
    t.is(await rawGrpcWebStatus(baseUrl, path, grpcEnvelope(body)), "3", `gRPC-Web, ${name}`);
  }
  t.is(await rawGrpcStatus(baseUrl, path, grpcEnvelope(good)), "0");
  t.is(await rawGrpcWebStatus(baseUrl, path, grpcEnvelope(good)), "0");
});
