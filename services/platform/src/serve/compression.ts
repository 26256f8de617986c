// How servers (every service and the edge) compress the answers they send: gzip and brotli at their
// fast settings, and in the calling thread for the usual few-KB answers. Connect's own compressionGzip/compressionBrotli use
// zlib's default levels (gzip 6, brotli 11) through the thread pool; measured on a 25 KB ListProducts
// page (CPU of all threads per answer, on this 2-core machine): gzip 6 in the pool 0.4–0.6 ms, gzip 1
// in the pool 0.26–0.34 ms, gzip 1 in-thread 0.08–0.09 ms for ~10 % more bytes; brotli 11 ~36 ms
// (any client can ask for it with accept-encoding: br — a cheap way to burn a server's CPU), brotli 2
// in-thread ~0.11 ms.
// Decompression (of the rare compressed request) stays Connect's, with its size limit.
import { promisify } from "node:util";
import zlib from "node:zlib";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { Compression } from "@connectrpc/connect/protocol";

/** Larger answers go through the thread pool, so one big body never blocks the loop for long. */
const inThreadBelowBytes = 64 * 1024;

const gzipOptions: zlib.ZlibOptions = { level: 1 };
const brotliOptions: zlib.BrotliOptions = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 2 } };
const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

const fastGzip: Compression = {
  ...compressionGzip,
  compress: async (bytes) =>
    arrayBufferBacked(bytes.byteLength < inThreadBelowBytes ? zlib.gzipSync(bytes, gzipOptions) : await gzip(bytes, gzipOptions)),
};

const fastBrotli: Compression = {
  ...compressionBrotli,
  compress: async (bytes) =>
    arrayBufferBacked(bytes.byteLength < inThreadBelowBytes ? zlib.brotliCompressSync(bytes, brotliOptions) : await brotli(bytes, brotliOptions)),
};

/** What servers accept and answer with (Connect's `acceptCompression`), in order of preference. */
export const fastCompression: readonly Compression[] = [fastGzip, fastBrotli];

function arrayBufferBacked(bytes: Buffer): Uint8Array<ArrayBuffer> {
  // zlib's output never lives in a SharedArrayBuffer: the check satisfies the type without a copy.
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
