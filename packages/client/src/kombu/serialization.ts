import { decode as unpack, encode as pack } from "@msgpack/msgpack";
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
    // kombu's msgpack: packb(use_bin_type=True) / unpackb(raw=False), so str stays str and
    // bytes stay bytes. @msgpack/msgpack (the msgpack project's own TypeScript
    // implementation) does the same by default; bin comes back as a Buffer here.
    "msgpack",
    {
      contentType: "application/x-msgpack",
      contentEncoding: "binary",
      encode: (body) => Buffer.from(pack(body)),
      decode: (data) => fromMsgpack(unpack(data)),
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

/** Turns the Uint8Arrays msgpack's bin type decodes to into Buffers, as raw bodies are. */
function fromMsgpack(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(fromMsgpack);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = fromMsgpack(o[k]);
  }
  return v;
}

/**
 * Content types any accept list lets through, as kombu's TRUSTED_CONTENT: raw bytes and
 * text need no decoder, so they cannot run code.
 */
const TRUSTED_CONTENT = new Set(["application/data", "application/text"]);

/** Raised when a message's content type is not in the consumer's accept list. */
export class ContentDisallowed extends Error {
  override name = "ContentDisallowed";
}

/** Adds (or replaces) a serializer, e.g. "yaml" (json, text, raw and msgpack are built in). */
export function registerSerializer(name: string, codec: Codec): void {
  codecs.set(name, codec);
}

/** Removes a serializer (kombu's registry.unregister); its content type then decodes to a Buffer. */
export function unregisterSerializer(name: string): void {
  codecs.delete(name);
}

/** The serializer registered under a name, or for a content type. */
export function serializerFor(nameOrContentType: string): Codec | undefined {
  return (
    codecs.get(nameOrContentType) ?? [...codecs.values()].find((c) => c.contentType === nameOrContentType)
  );
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
  if (
    accept &&
    !TRUSTED_CONTENT.has(type) &&
    !accept.some((a) => a === type || codecs.get(a)?.contentType === type)
  ) {
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
