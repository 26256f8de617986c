// A malformed protobuf binary request (truncated, a bad varint or wire type, invalid UTF-8 in a
// string) is the caller's mistake, but connect-es reports its parse failure as `internal` ("parse
// binary: …"), in every protocol, before any interceptor runs. So the request is parsed here first, in
// front of connect's handler; a malformed one is marked, and the request gate (protocolOptions) refuses
// it as invalid_argument — in the caller's own protocol, written by connect itself.
import { fromBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextKey, createContextValues, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import type { Compression, UniversalHandler, UniversalServerRequest } from "@connectrpc/connect/protocol";

const malformedKey = createContextKey<ConnectError | undefined>(undefined, { description: "malformed binary request" });

/** The request gate half: refuses a call marked malformed before connect reads or parses its body. */
export function refuseMarkedMalformed(context: HandlerContext): void {
  const error = context.values.get(malformedKey);
  if (error) throw error;
}

export interface CheckBinaryRequestsOptions {
  /** The adapter's readMaxBytes: bodies larger than this (plus framing) are left to connect's own limit. */
  readMaxBytes: number;
  /** The compressions the adapter accepts (protocolOptions.acceptCompression). */
  acceptCompression: readonly Compression[];
}

/**
 * Puts the check in front of every handler registered on `router` so far whose requests are one
 * message (unary and server-streaming): call it last in the adapter's `routes`. Needs
 * `refuseMarkedMalformed` as the adapter's requestGate (protocolOptions has it).
 */
export function checkBinaryRequests(router: ConnectRouter, options: CheckBinaryRequestsOptions): void {
  const handlers = router.handlers as UniversalHandler[];
  for (let i = 0; i < handlers.length; i++) {
    const handler = handlers[i]!;
    if (handler.method.methodKind !== "unary" && handler.method.methodKind !== "server_streaming") continue;
    const checked = async (request: UniversalServerRequest) => handler(await check(request, handler.method.input, options));
    handlers[i] = Object.assign(checked, handler);
  }
}

type Framing = { enveloped: boolean; encodingHeader: string };

// Binary content types per protocol, and where each names its compression.
function framingOf(contentType: string | null): Framing | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/proto") return { enveloped: false, encodingHeader: "content-encoding" };
  if (type === "application/connect+proto") return { enveloped: true, encodingHeader: "connect-content-encoding" };
  if (type === "application/grpc" || type === "application/grpc+proto" || type === "application/grpc-web" || type === "application/grpc-web+proto") {
    return { enveloped: true, encodingHeader: "grpc-encoding" };
  }
  return undefined;
}

/** `request` with its body buffered (and still readable by connect), marked when it is malformed. */
async function check(request: UniversalServerRequest, schema: DescMessage, options: CheckBinaryRequestsOptions): Promise<UniversalServerRequest> {
  let messages: (Uint8Array | undefined)[] | undefined;
  let next = request;
  if (request.method === "GET") {
    messages = await fromQuery(request.url, options);
  } else {
    const framing = framingOf(request.header.get("content-type"));
    if (!framing || !isByteStream(request.body)) return request;
    const read = await readBounded(request.body, options.readMaxBytes + 5);
    next = { ...request, body: read.body };
    if (!read.complete) return next; // too large: connect's own limit answers
    const compression = findCompression(request.header.get(framing.encodingHeader), options);
    if (compression === null) return next; // unsupported: connect answers unimplemented
    messages = framing.enveloped ? await unenvelope(read.bytes, compression, options) : [await inflate(read.bytes, compression, options)];
  }
  for (const message of messages ?? []) {
    if (message === undefined) continue;
    try {
      fromBinary(schema, message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const refusal = new ConnectError(`the request is not a valid ${schema.typeName} in protobuf binary: ${reason}`, Code.InvalidArgument);
      return { ...next, contextValues: (next.contextValues ?? createContextValues()).set(malformedKey, refusal) };
    }
  }
  return next;
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/** Reads at most `limit` bytes; the returned body replays them, then whatever was left unread. */
async function readBounded(source: AsyncIterable<Uint8Array>, limit: number) {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = source[Symbol.asyncIterator]();
  let complete = true;
  for (;;) {
    const result = await iterator.next();
    if (result.done) break;
    chunks.push(result.value);
    size += result.value.byteLength;
    if (size > limit) {
      complete = false;
      break;
    }
  }
  const body = (async function* () {
    yield* chunks;
    if (!complete) for (let r = await iterator.next(); !r.done; r = await iterator.next()) yield r.value;
  })();
  return { body, complete, bytes: complete ? concat(chunks, size) : new Uint8Array() };
}

// undefined: no compression; null: one this adapter does not accept (left to connect).
function findCompression(name: string | null, options: CheckBinaryRequestsOptions): Compression | undefined | null {
  if (!name || name === "identity") return undefined;
  return options.acceptCompression.find((c) => c.name === name) ?? null;
}

/** Undefined entries: framing or compression that connect will refuse by itself, in its own words. */
async function unenvelope(bytes: Uint8Array, compression: Compression | undefined, options: CheckBinaryRequestsOptions): Promise<(Uint8Array | undefined)[]> {
  const messages: (Uint8Array | undefined)[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset < bytes.byteLength; ) {
    if (offset + 5 > bytes.byteLength) return messages; // incomplete envelope
    const flags = bytes[offset]!;
    const length = view.getUint32(offset + 1);
    if (offset + 5 + length > bytes.byteLength) return messages;
    const data = bytes.subarray(offset + 5, offset + 5 + length);
    offset += 5 + length;
    if (flags & 0b10) continue; // an end-of-stream frame carries no request message
    if (flags & 0b1 && !compression) return messages;
    messages.push(flags & 0b1 ? await inflate(data, compression, options) : data);
  }
  return messages;
}

async function inflate(bytes: Uint8Array, compression: Compression | undefined, options: CheckBinaryRequestsOptions): Promise<Uint8Array | undefined> {
  if (!compression) return bytes;
  return compression.decompress(bytes, options.readMaxBytes).catch(() => undefined);
}

async function fromQuery(url: string, options: CheckBinaryRequestsOptions): Promise<Uint8Array[] | undefined> {
  const query = new URL(url, "http://localhost").searchParams;
  if (query.get("encoding") !== "proto") return undefined;
  const message = query.get("message") ?? "";
  const bytes = query.get("base64") === "1" ? new Uint8Array(Buffer.from(message, "base64")) : new TextEncoder().encode(message);
  const compression = findCompression(query.get("compression"), options);
  if (compression === null) return undefined;
  const inflated = await inflate(bytes, compression, options);
  return inflated ? [inflated] : undefined;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
