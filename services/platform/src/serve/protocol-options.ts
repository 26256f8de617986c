// What every Connect adapter in Bazaar speaks beyond the protocol's defaults — the services'
// (createRpcServer) and the edge's — so the two never drift apart.
import type { JsonReadOptions } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { fastCompression } from "./compression.ts";
import { checkBinaryRequests, refuseMarkedMalformed } from "./malformed-binary.ts";

export const protocolOptions: {
  jsonOptions: Partial<JsonReadOptions>;
  acceptCompression: Compression[];
  requestGate: (context: HandlerContext) => void;
} = {
  // A JSON field the contract lacks is refused with its name (as Google's JSON APIs do), not ignored:
  // a misspelt "currency" must not silently leave the default. Binary keeps protobuf's rules.
  jsonOptions: { ignoreUnknownFields: false },
  acceptCompression: [...fastCompression],
  // A malformed binary request, found by refuseMalformedBinary, is invalid_argument (connect says internal).
  requestGate: refuseMarkedMalformed,
};

/**
 * Call last in an adapter's `routes` (with the adapter's readMaxBytes): a protobuf binary request that
 * does not parse — truncated, a bad varint or wire type, invalid UTF-8 — is refused as
 * invalid_argument in every protocol (Connect, gRPC, gRPC-Web, Connect GET), never `internal`.
 */
export function refuseMalformedBinary(router: ConnectRouter, options: { readMaxBytes: number }): void {
  checkBinaryRequests(router, { readMaxBytes: options.readMaxBytes, acceptCompression: protocolOptions.acceptCompression });
}
