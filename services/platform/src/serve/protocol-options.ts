// What every Connect adapter in Bazaar speaks beyond the protocol's defaults — the services'
// (createRpcServer) and the edge's — so the two never drift apart.
import type { JsonReadOptions } from "@bufbuild/protobuf";
import type { Compression } from "@connectrpc/connect/protocol";
import { fastCompression } from "./compression.ts";

export const protocolOptions: { jsonOptions: Partial<JsonReadOptions>; acceptCompression: Compression[] } = {
  // A JSON field the contract lacks is refused with its name (as Google's JSON APIs do), not ignored:
  // a misspelt "currency" must not silently leave the default. Binary keeps protobuf's rules.
  jsonOptions: { ignoreUnknownFields: false },
  acceptCompression: [...fastCompression],
};
