// The server side's public shape, free of DOM and JSX types, so the edge (typechecked without the
// browser's lib) can import it: index.d.ts declares the package through it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export type NodeRequest = IncomingMessage | Http2ServerRequest;
export type NodeResponse = ServerResponse | Http2ServerResponse;

export interface WebPagesOptions {
  /** Where the rendering server reaches the API: the edge itself, e.g. http://127.0.0.1:8080. */
  apiBaseUrl: () => string;
  /**
   * The fetch the rendering server's data calls use. The edge passes one that sends the page request's
   * trace context (`traceparent`), so a page's RPCs are in the page's trace. Default globalThis.fetch.
   */
  fetch?: typeof globalThis.fetch;
  /** The client build (vite build). Default: this package's dist/. */
  distDir?: string;
}

/** Answers a page (or a built asset, robots.txt) for a GET/HEAD that is not the API's. */
export type PageHandler = (request: NodeRequest, response: NodeResponse) => Promise<void>;

export type CreateWebPages = (options: WebPagesOptions) => PageHandler;
