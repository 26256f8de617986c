// The baseline: a bare connect-node server over h2c with the same Echo handler as the runtime bench,
// and nothing else (no discovery, interceptors, metrics or tracing). Prints its port.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { TestService } from "../test/gen/bazaar/platformtest/v1/test_service_pb.ts";

const server = http2.createServer(
  connectNodeAdapter({
    routes: (router) =>
      router.service(TestService, {
        echo: (request) => ({ message: request.message, instanceId: "bare" }),
      }),
  }),
);
server.listen(0, "127.0.0.1", () => console.log(`port ${(server.address() as AddressInfo).port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
