// Malformed protobuf binary through the edge — truncated, a bad varint, a bad wire type, invalid
// UTF-8 — is invalid_argument over Connect, gRPC and gRPC-Web, never internal; a good binary request
// is forwarded to the catalog behind it. Raw HTTP, so no client library fixes the bytes.
import test from "ava";
import { createLogger, createService, loadConfig, platformConfigSchema } from "@bazaar/platform";
import { createTestSigner, dropServiceDatabase, eventually, grpcEnvelope, rawGrpcStatus, rawGrpcWebStatus, testEnv, uniqueName } from "@bazaar/platform/testing";
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
    upstreams: { catalog: name },
  });
  const { port } = await edge.listen();
  t.teardown(() => edge.close());
  const url = `http://127.0.0.1:${port}`;

  // The catalog is reachable through the edge (once Consul says it is healthy).
  await eventually("a good binary search answered through the edge", async () => {
    const response = await fetch(url + path, { method: "POST", headers: { "content-type": "application/proto" }, body: good });
    return response.status === 200;
  });
  t.is(await rawGrpcStatus(url, path, grpcEnvelope(good)), "0");

  for (const [what, body] of Object.entries(malformedBodies)) {
    const response = await fetch(url + path, { method: "POST", headers: { "content-type": "application/proto" }, body });
    t.is(response.status, 400, `Connect, ${what}`);
    t.is(((await response.json()) as { code: string }).code, "invalid_argument", `Connect, ${what}`);
    t.is(await rawGrpcStatus(url, path, grpcEnvelope(body)), "3", `gRPC, ${what}`);
    t.is(await rawGrpcWebStatus(url, path, grpcEnvelope(body)), "3", `gRPC-Web, ${what}`);
  }
});
