// One error shape for every failure the edge answers itself (before or beside Connect): the Connect
// error JSON {code, message} for Connect and plain HTTP callers, a trailers-only response with
// grpc-status for gRPC and gRPC-Web callers.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { Code } from "@connectrpc/connect";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
/**
 * The response as the edge uses it. HTTP/2 responses are handed in as this type too: the members the
 * edge calls (writeHead, setHeader, getHeader, end, statusCode, headersSent, events) behave the same.
 */
export type NodeResponse = ServerResponse;
/** Either kind of response, as node hands them over. */
export type AnyNodeResponse = ServerResponse | Http2ServerResponse;

const httpStatus: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.ResourceExhausted]: 429,
  [Code.Unimplemented]: 501,
  [Code.Unavailable]: 503,
};

const codeName = (code: Code) => Code[code].replace(/[A-Z]/g, (c, i: number) => (i ? "_" : "") + c.toLowerCase());

export function isGrpc(request: NodeRequest): boolean {
  return /^application\/grpc/.test(String(request.headers["content-type"] ?? ""));
}

export function sendError(
  request: NodeRequest,
  response: NodeResponse,
  code: Code,
  message: string,
  options: { status?: number; headers?: Record<string, string> } = {},
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers = { "cache-control": "no-store", ...options.headers };
  if (isGrpc(request)) {
    const contentType = String(request.headers["content-type"]).startsWith("application/grpc-web") ? "application/grpc-web+proto" : "application/grpc";
    const status = { "grpc-status": String(code), "grpc-message": percentEncode(message) };
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
  response.writeHead(options.status ?? httpStatus[code] ?? 500, { ...headers, "content-type": "application/json" });
  response.end(request.method === "HEAD" ? undefined : JSON.stringify({ code: codeName(code), message }));
}

/** grpc-message encoding: printable ASCII stays, "%" and everything else is percent-encoded (UTF-8). */
function percentEncode(message: string): string {
  return message.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}
