// One error answer for what a server's front decides itself, before or beside Connect (unknown paths,
// limits, a failing front): in the caller's protocol, with Connect's own status table, error JSON and
// gRPC status encoding, so it reads exactly like an error a handler raised.
import type { ServerResponse } from "node:http";
import { ConnectError } from "@connectrpc/connect";
import type { connectNodeAdapter } from "@connectrpc/connect-node";
import { codeToHttpStatus, errorToJson } from "@connectrpc/connect/protocol-connect";

// connect-node's request and response types (an HTTP/1 or HTTP/2 pair), which its index does not export.
type NodeHandler = ReturnType<typeof connectNodeAdapter>;
export type NodeServerRequest = Parameters<NodeHandler>[0];
export type NodeServerResponse = Parameters<NodeHandler>[1];

/** A gRPC or gRPC-Web call (content-type application/grpc…), as opposed to Connect or plain HTTP. */
export function isGrpcRequest(request: NodeServerRequest): boolean {
  return /^application\/grpc/.test(String(request.headers["content-type"] ?? ""));
}

export interface ErrorResponseOptions {
  /** HTTP status for Connect and plain-HTTP callers. Default: Connect's for the code (429 for resource_exhausted…). */
  status?: number;
  /** Extra response headers (e.g. retry-after). */
  headers?: Record<string, string>;
}

/**
 * Answers `error`: Connect error JSON `{"code","message"}` with the code's HTTP status for Connect and
 * plain-HTTP callers, a body-less 200 with grpc-status/grpc-message for gRPC and gRPC-Web callers. A
 * response already under way is cut off instead (its status line is gone).
 */
export function sendErrorResponse(request: NodeServerRequest, anyResponse: NodeServerResponse, error: ConnectError, options: ErrorResponseOptions = {}): void {
  // Both response kinds have the members used here; node's types just do not share a signature.
  const response = anyResponse as unknown as ServerResponse;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers = { "cache-control": "no-store", ...options.headers };
  if (isGrpcRequest(request)) {
    const contentType = String(request.headers["content-type"]).startsWith("application/grpc-web") ? "application/grpc-web+proto" : "application/grpc";
    const status = { "grpc-status": String(error.code), "grpc-message": percentEncode(error.rawMessage) };
    if (request.httpVersionMajor === 2 && contentType === "application/grpc") {
      // Node's HTTP/2 compatibility layer ends a body-less response with an empty DATA frame, so the
      // status must travel as trailers, where gRPC clients look for it.
      response.writeHead(200, { ...headers, "content-type": contentType });
      response.addTrailers(status);
    } else {
      response.writeHead(200, { ...headers, "content-type": contentType, ...status });
    }
    response.end();
    return;
  }
  response.writeHead(options.status ?? codeToHttpStatus(error.code), { ...headers, "content-type": "application/json" });
  response.end(request.method === "HEAD" ? undefined : JSON.stringify(errorToJson(error, undefined)));
}

/**
 * grpc-message as the gRPC spec encodes it: printable ASCII stays, "%" and everything else is
 * percent-encoded (UTF-8). Not Connect's setTrailerStatus: it encodes with encodeURIComponent, and
 * grpc-js decodes with decodeURI, so its callers would read "%3A" for every ":".
 */
function percentEncode(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}
