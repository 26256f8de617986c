// Malformed protobuf binary through the edge — truncated, a bad varint, a bad wire type, invalid
// UTF-8 — is invalid_argument over Connect, gRPC and gRPC-Web, never internal; a good binary request
// is forwarded to the catalog behind it. Raw HTTP, so no client library fixes the bytes.
import http2 from "node:http2";
import test from "ava";
import { createLogger, createService, loadConfig, platformConfigSchema } from "@bazaar/platform";
import { createTestSigner, dropServiceDatabase, eventually, testEnv, uniqueName } from "@bazaar/platform/testing";
import { catalog } from "@bazaar/catalog";
import { createEdge } from "../src/index.ts";

const path = "/bazaar.catalog.v1.CatalogService/SearchProducts";
// SearchProductsRequest { string query = 1; … }
const malformedBodies: Record<string, Uint8Array> = {
  truncated: Uint8Array.of(0x0a, 0x0a, 0x41, 0x42),
  "bad varint": Uint8Array.of(0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
  "bad wire type": Uint8Array.of(0x0f, 0x00),
  "invalid UTF-8": Uint8Array.of(0x0a, 0x02, 0xc3, 0x28),
};
const good = Uint8Array.of(0x0a, 0x04, 0x62, 0x6f, 0x6f, 0x74); // query: "boot"

function envelope(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(5 + message.byteLength);
  new DataView(framed.buffer).setUint32(1, message.byteLength);
  framed.set(message, 5);
  return framed;
}

async function grpcStatus(url: string, body: Uint8Array): Promise<string | undefined> {
  const session = http2.connect(url);
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
      let status: string | undefined;
      stream.on("response", (headers) => (status ??= headers["grpc-status"] as string | undefined));
      stream.on("trailers", (trailers) => (status = trailers["grpc-status"] as string | undefined));
      stream.on("data", () => undefined);
      stream.on("end", () => resolve(status));
      stream.on("error", reject);
      stream.end(body);
    });
  } finally {
    session.close();
  }
}

async function grpcWebStatus(url: string, body: Uint8Array): Promise<string | undefined> {
  const response = await fetch(url + path, { method: "POST", headers: { "content-type": "application/grpc-web+proto" }, body });
  const text = new TextDecoder().decode(await response.arrayBuffer());
  return /grpc-status:\s*(\d+)/i.exec(text)?.[1] ?? response.headers.get("grpc-status") ?? undefined;
}

test("malformed binary requests through the edge are invalid_argument in every protocol; a good one reaches the catalog", async (t) => {
  const name = uniqueName("catalog");
  const { verifier } = await createTestSigner();
  const config = loadConfig(platformConfigSchema, testEnv);
  const service = await createService(catalog({ name, followStock: false, followOrders: false }), { config, verifier });
  t.teardown(async () => {
    await service.stop();
    await dropServiceDatabase(name);
  });
  const edge = createEdge({
    logger: createLogger({ service: "edge", level: "silent" }),
    verifier,
    consulAddr: config.CONSUL_HTTP_ADDR,
    upstreams: { "bazaar.catalog.v1.CatalogService": name },
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  const url = `http://127.0.0.1:${port}`;

  // The catalog is reachable through the edge (once Consul says it is healthy).
  await eventually("a good binary search answered through the edge", async () => {
    const response = await fetch(url + path, { method: "POST", headers: { "content-type": "application/proto" }, body: good });
    return response.status === 200;
  });
  t.is(await grpcStatus(url, envelope(good)), "0");

  for (const [what, body] of Object.entries(malformedBodies)) {
    const response = await fetch(url + path, { method: "POST", headers: { "content-type": "application/proto" }, body });
    t.is(response.status, 400, `Connect, ${what}`);
    t.is(((await response.json()) as { code: string }).code, "invalid_argument", `Connect, ${what}`);
    t.is(await grpcStatus(url, envelope(body)), "3", `gRPC, ${what}`);
    t.is(await grpcWebStatus(url, envelope(body)), "3", `gRPC-Web, ${what}`);
  }
});
