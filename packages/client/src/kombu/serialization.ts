import { brotliCompressSync, brotliDecompressSync, deflateSync, unzipSync } from "node:zlib";

/**
 * kombu's serializer registry, reduced to what JavaScript needs: a serializer turns a body
 * into bytes plus the content_type / content_encoding that tell the receiver how to decode
 * them, and decoding goes by content_type.
 */

/** A registered serializer. */
export interface Codec {
  contentType: string;
  contentEncoding: string;
  encode(body: unknown): Buffer;
  decode(data: Buffer): unknown;
}

/** Bytes ready to publish, with the properties that describe them. */
export interface Encoded {
  body: Buffer;
  contentType: string;
  contentEncoding: string;
}

const asText = (body: unknown): Buffer => Buffer.from(typeof body === "string" ? body : String(body), "utf8");

const codecs = new Map<string, Codec>([
  [
    "json",
    {
      contentType: "application/json",
      contentEncoding: "utf-8",
      encode: (body) => Buffer.from(JSON.stringify(body) ?? "null", "utf8"),
      decode: (data) => JSON.parse(data.toString("utf8")),
    },
  ],
  [
    "text",
    {
      contentType: "text/plain",
      contentEncoding: "utf-8",
      encode: asText,
      decode: (d) => d.toString("utf8"),
    },
  ],
  [
    "raw",
    {
      contentType: "application/data",
      contentEncoding: "binary",
      encode: (body) => (Buffer.isBuffer(body) ? body : asText(body)),
      decode: (data) => data,
    },
  ],
]);

/** Raised when a message's content type is not in the consumer's accept list. */
export class ContentDisallowed extends Error {
  override name = "ContentDisallowed";
}

/** Adds (or replaces) a serializer, e.g. for "msgpack" or "yaml". */
export function registerSerializer(name: string, codec: Codec): void {
  codecs.set(name, codec);
}

/**
 * Encodes a body. Without a serializer, as kombu does: a Buffer goes as raw bytes, a
 * string as text/plain, anything else as JSON. "raw" with a string gives text/plain.
 */
export function dumps(body: unknown, serializer?: string): Encoded {
  let name = serializer ?? (Buffer.isBuffer(body) ? "raw" : typeof body === "string" ? "text" : "json");
  if (name === "raw" && !Buffer.isBuffer(body)) name = "text";
  const codec = codecs.get(name);
  if (!codec) throw new TypeError(`unknown serializer ${JSON.stringify(name)}`);
  return { body: codec.encode(body), contentType: codec.contentType, contentEncoding: codec.contentEncoding };
}

/**
 * Decodes a message body by its content type. Unknown or absent content types give the
 * Buffer itself. With `accept` (serializer names or content types), any other content type
 * throws ContentDisallowed.
 */
export function loads(data: Buffer, contentType: string | undefined, accept?: readonly string[]): unknown {
  const type = contentType ?? "application/data";
  if (accept && !accept.some((a) => a === type || codecs.get(a)?.contentType === type)) {
    throw new ContentDisallowed(`refusing to decode content type ${JSON.stringify(type)}`);
  }
  for (const codec of codecs.values()) {
    if (codec.contentType === type) return codec.decode(data);
  }
  return data;
}

/**
 * kombu's compression methods: the name a Producer takes, and the MIME type kombu writes in
 * the `compression` header (kombu/compression.py registers zlib.compress under
 * "application/x-gzip", with the aliases "zlib" and "gzip"). Python's bz2, lzma and zstd have
 * no counterpart in Node's zlib; such messages fail to decode (see Consumer's onDecodeError).
 */
const COMPRESSION: Record<
  string,
  { type: string; compress(b: Buffer): Buffer; decompress(b: Buffer): Buffer }
> = {
  "application/x-gzip": {
    type: "application/x-gzip",
    compress: (b) => deflateSync(b),
    // unzip takes both the zlib stream kombu writes and a real gzip stream.
    decompress: (b) => unzipSync(b),
  },
  "application/x-brotli": {
    type: "application/x-brotli",
    compress: (b) => brotliCompressSync(b),
    decompress: (b) => brotliDecompressSync(b),
  },
};
const COMPRESSION_ALIASES: Record<string, string> = {
  zlib: "application/x-gzip",
  gzip: "application/x-gzip",
  brotli: "application/x-brotli",
};

/** Compresses as kombu does; returns the body and the value of the `compression` header. */
export function compress(body: Buffer, method: string): { body: Buffer; compression: string } {
  const c = COMPRESSION[COMPRESSION_ALIASES[method] ?? method];
  if (!c) throw new TypeError(`unknown compression ${JSON.stringify(method)} (zlib, gzip or brotli)`);
  return { body: c.compress(body), compression: c.type };
}

/** Undoes compress(), given the `compression` header. */
export function decompress(body: Buffer, compression: string): Buffer {
  const c = COMPRESSION[COMPRESSION_ALIASES[compression] ?? compression];
  if (!c) throw new ContentDisallowed(`unsupported compression ${JSON.stringify(compression)}`);
  return c.decompress(body);
}
