// The edge's node request/response types, and its one way to answer a failure it decides itself
// (before or beside Connect): the platform's sendErrorResponse, which speaks the caller's protocol with
// Connect's own status table and encodings.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { sendErrorResponse, type ErrorResponseOptions, type NodeServerResponse } from "@bazaar/platform";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
/**
 * The response as the edge uses it. HTTP/2 responses are handed in as this type too: the members the
 * edge calls (writeHead, setHeader, getHeader, end, statusCode, headersSent, events) behave the same.
 */
export type NodeResponse = ServerResponse;
/** Either kind of response, as the platform's server hands them over. */
export type AnyNodeResponse = NodeServerResponse;

export function sendError(request: NodeRequest, response: AnyNodeResponse, code: Code, message: string, options: ErrorResponseOptions = {}): void {
  sendErrorResponse(request, response, new ConnectError(message, code), options);
}
