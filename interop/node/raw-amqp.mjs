// A deliberately tiny raw-socket AMQP 0-9-1 client for the cases no real client library will
// send (immediate=true, prefetch_size != 0, channel.flow active=false, a second channel.open,
// odd tune-ok values, a bad protocol header, AMQPLAIN, failed auth with and without the
// authentication_failure_close capability). It hand-encodes only the frames those tests need
// and decodes only what they look at: connection.start/tune and the two close methods.
import net from "node:net";

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]); // "AMQP" 0 0 9 1
const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 0xce;

// class/method ids used here
export const M = {
  connectionStart: [10, 10],
  connectionStartOk: [10, 11],
  connectionTune: [10, 30],
  connectionTuneOk: [10, 31],
  connectionOpen: [10, 40],
  connectionOpenOk: [10, 41],
  connectionClose: [10, 50],
  connectionCloseOk: [10, 51],
  channelOpen: [20, 10],
  channelOpenOk: [20, 11],
  channelFlow: [20, 20],
  channelFlowOk: [20, 21],
  channelClose: [20, 40],
  channelCloseOk: [20, 41],
  queueDeclare: [50, 10],
  queueDeclareOk: [50, 11],
  basicQos: [60, 10],
  basicQosOk: [60, 11],
  basicPublish: [60, 40],
  basicGet: [60, 70],
  basicGetOk: [60, 71],
  basicGetEmpty: [60, 72],
  basicConsume: [60, 20],
  basicConsumeOk: [60, 21],
  basicRecover: [60, 110],
  basicRecoverOk: [60, 111],
  confirmSelect: [85, 10],
  confirmSelectOk: [85, 11],
  txSelect: [90, 10],
  txSelectOk: [90, 11],
};

/** Appends AMQP wire types to a growing buffer. */
export class Writer {
  parts = [];
  octet(v) {
    return this.#push(Buffer.from([v]));
  }
  short(v) {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.#push(b);
  }
  long(v) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return this.#push(b);
  }
  longlong(v) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    return this.#push(b);
  }
  /** Packs booleans into one octet, first argument in the lowest bit. */
  bits(...flags) {
    return this.octet(flags.reduce((acc, f, i) => acc | (f ? 1 << i : 0), 0));
  }
  shortstr(s) {
    const b = Buffer.from(s, "utf8");
    return this.octet(b.length).#push(b);
  }
  longstr(s) {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, "utf8");
    return this.long(b.length).#push(b);
  }
  /** Field table; values: boolean -> 't', number -> 'I', string -> 'S', object -> 'F'. */
  table(obj) {
    const inner = tableBody(obj);
    return this.long(inner.length).#push(inner);
  }
  toBuffer() {
    return Buffer.concat(this.parts);
  }
  #push(b) {
    this.parts.push(b);
    return this;
  }
}

/**
 * Encodes one field value with an explicit type tag, so tests control the exact wire type:
 * t b B s u I i l f d D T S x V, A (value: array of [tag, value]), F (value: array of
 * [name, tag, value]).
 */
export function fieldValue(w, tag, v) {
  w.octet(tag.charCodeAt(0));
  const fixed = (size, write, value = v) => {
    const b = Buffer.alloc(size);
    b[write](value);
    w.parts.push(b);
    return w;
  };
  switch (tag) {
    case "t":
      return w.octet(v ? 1 : 0);
    case "b":
      return fixed(1, "writeInt8");
    case "B":
      return w.octet(v);
    case "s":
      return fixed(2, "writeInt16BE");
    case "u":
      return w.short(v);
    case "I":
      return fixed(4, "writeInt32BE");
    case "i":
      return w.long(v);
    case "l":
      return fixed(8, "writeBigInt64BE", BigInt(v));
    case "T":
      return w.longlong(v);
    case "f":
      return fixed(4, "writeFloatBE");
    case "d":
      return fixed(8, "writeDoubleBE");
    case "D":
      return w.octet(v.places).long(v.digits);
    case "S":
    case "x":
      return w.longstr(v);
    case "V":
      return w;
    case "A": {
      const inner = new Writer();
      for (const [t, x] of v) fieldValue(inner, t, x);
      return w.longstr(inner.toBuffer());
    }
    case "F":
      return w.longstr(typedTableBody(v));
    default:
      throw new Error(`unknown field type ${tag}`);
  }
}

/** Field table body from [name, tag, value] entries. */
export function typedTableBody(entries) {
  const w = new Writer();
  for (const [name, tag, v] of entries) fieldValue(w.shortstr(name), tag, v);
  return w.toBuffer();
}

const PROPS = [
  ["contentType", "shortstr"],
  ["contentEncoding", "shortstr"],
  ["headers", "table"],
  ["deliveryMode", "octet"],
  ["priority", "octet"],
  ["correlationId", "shortstr"],
  ["replyTo", "shortstr"],
  ["expiration", "shortstr"],
  ["messageId", "shortstr"],
  ["timestamp", "longlong"],
  ["type", "shortstr"],
  ["userId", "shortstr"],
  ["appId", "shortstr"],
  ["clusterId", "shortstr"],
];

/** basic content-header property block (flags + fields); headers as [name, tag, value] entries. */
export function encodeProperties(props) {
  const w = new Writer();
  let flags = 0;
  PROPS.forEach(([name, type], i) => {
    if (props[name] === undefined) return;
    flags |= 1 << (15 - i);
    if (type === "table") w.longstr(typedTableBody(props[name]));
    else w[type](props[name]);
  });
  return Buffer.concat([new Writer().short(flags).toBuffer(), w.toBuffer()]);
}

/** A field table without its 32-bit length prefix (also the AMQPLAIN response format). */
export function tableBody(obj) {
  const w = new Writer();
  for (const [k, v] of Object.entries(obj)) {
    w.shortstr(k);
    if (typeof v === "boolean") fieldValue(w, "t", v);
    else if (typeof v === "number") fieldValue(w, "I", v);
    else if (typeof v === "string") fieldValue(w, "S", v);
    else w.octet(0x46).table(v);
  }
  return w.toBuffer();
}

/** One frame: type, channel, payload, frame-end. */
export function frame(type, channel, payload) {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([FRAME_END])]);
}

/** Decodes a connection.close / channel.close argument block. */
function parseClose(args) {
  const code = args.readUInt16BE(0);
  const len = args.readUInt8(2);
  const text = args.toString("utf8", 3, 3 + len);
  return { code, text, classId: args.readUInt16BE(3 + len), methodId: args.readUInt16BE(5 + len) };
}

export class RawConnection {
  /** @type {net.Socket} */
  socket;
  frames = [];
  waiters = [];
  raw = Buffer.alloc(0); // every byte ever received (for the protocol-header test)
  pending = Buffer.alloc(0); // bytes not yet parsed into frames
  parseFrames = true;
  protocolError = null; // set if the server sent something that is not a valid frame
  closed; // resolves when the server closes the socket

  /** Opens the TCP connection only; nothing is sent yet. */
  static connect(host, port) {
    return new Promise((resolve, reject) => {
      const c = new RawConnection();
      c.socket = net.connect(port, host);
      c.closed = new Promise((r) => c.socket.once("close", r));
      c.socket.once("error", reject);
      c.socket.once("connect", () => {
        c.socket.off("error", reject);
        c.socket.on("error", () => {}); // ECONNRESET after the server hangs up is expected
        resolve(c);
      });
      c.socket.on("data", (d) => c.#onData(d));
      c.socket.once("close", () => c.#wake());
    });
  }

  #onData(d) {
    this.raw = Buffer.concat([this.raw, d]);
    if (!this.parseFrames) return this.#wake();
    this.pending = Buffer.concat([this.pending, d]);
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(3);
      if (this.pending.length < size + 8) break;
      const f = {
        type: this.pending.readUInt8(0),
        channel: this.pending.readUInt16BE(1),
        payload: this.pending.subarray(7, 7 + size),
      };
      if (this.pending[7 + size] !== FRAME_END) {
        this.protocolError = new Error(`bad frame end after a ${size}-byte frame`);
        this.socket.destroy();
        return this.#wake();
      }
      this.pending = this.pending.subarray(size + 8);
      if (f.type === FRAME_METHOD) {
        f.classId = f.payload.readUInt16BE(0);
        f.methodId = f.payload.readUInt16BE(2);
        f.args = f.payload.subarray(4);
        const isClose = (f.classId === 10 && f.methodId === 50) || (f.classId === 20 && f.methodId === 40);
        if (isClose) f.close = parseClose(f.args);
      }
      this.frames.push(f);
    }
    this.#wake();
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  get isClosed() {
    return this.socket.destroyed || this.socket.readyState === "closed";
  }

  /** Next frame matching pred (default: any method frame); throws if the socket closes first. */
  async next(pred = (f) => f.type === FRAME_METHOD, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.protocolError) throw this.protocolError;
      if (this.isClosed) throw new Error("socket closed while waiting for a frame");
      if (Date.now() > deadline) throw new Error("timed out waiting for a frame");
      await new Promise((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** Next method frame that is one of the given [classId, methodId] pairs. */
  expect(...methods) {
    return this.next(
      (f) => f.type === FRAME_METHOD && methods.some(([c, m]) => f.classId === c && f.methodId === m),
    );
  }

  /** Waits for the server to close the TCP connection. */
  async waitClosed(timeoutMs = 5000) {
    const t = new Promise((_, rej) =>
      setTimeout(() => rej(new Error("socket still open")), timeoutMs).unref(),
    );
    await Promise.race([this.closed, t]);
  }

  write(buf) {
    this.socket.write(buf);
  }

  /** Sends a method frame; args is a Writer (or nothing). */
  method(channel, [classId, methodId], args = new Writer()) {
    const p = new Writer().short(classId).short(methodId).toBuffer();
    this.write(frame(FRAME_METHOD, channel, Buffer.concat([p, args.toBuffer()])));
  }

  /** basic.publish + content header + one body frame (so keep bodies < frame_max); properties is
   *  an encodeProperties() block. */
  publish(channel, opts) {
    const { exchange = "", routingKey = "", mandatory = false, immediate = false } = opts;
    const content = Buffer.from(opts.body ?? "");
    const properties = opts.properties ?? Buffer.alloc(2); // no property flags set
    this.method(
      channel,
      M.basicPublish,
      new Writer().short(0).shortstr(exchange).shortstr(routingKey).bits(mandatory, immediate),
    );
    const header = new Writer().short(60).short(0).longlong(content.length).toBuffer();
    this.write(frame(FRAME_HEADER, channel, Buffer.concat([header, properties])));
    if (content.length) this.write(frame(FRAME_BODY, channel, content));
  }

  /** basic.get with no-ack; null on get-empty, else the raw property block, body and body-frame sizes. */
  async get(channel, queue) {
    this.method(channel, M.basicGet, new Writer().short(0).shortstr(queue).bits(true));
    const reply = await this.expect(M.basicGetOk, M.basicGetEmpty);
    if (reply.methodId === M.basicGetEmpty[1]) return null;
    const header = await this.next((f) => f.type === FRAME_HEADER && f.channel === channel);
    const size = Number(header.payload.readBigUInt64BE(4));
    const chunks = [];
    for (let got = 0; got < size;) {
      const f = await this.next((f) => f.type === FRAME_BODY && f.channel === channel);
      chunks.push(f.payload);
      got += f.payload.length;
    }
    return {
      properties: header.payload.subarray(12),
      body: Buffer.concat(chunks),
      bodyFrames: chunks.map((c) => c.length),
    };
  }

  /** queue.declare (exclusive, auto-delete); resolves with the (possibly server-chosen) name. */
  async declareQueue(channel, name = "") {
    this.method(
      channel,
      M.queueDeclare,
      new Writer().short(0).shortstr(name).bits(false, false, true, true, false).table({}),
    );
    const ok = await this.expect(M.queueDeclareOk);
    return ok.args.toString("utf8", 1, 1 + ok.args.readUInt8(0));
  }

  openChannel(channel) {
    this.method(channel, M.channelOpen, new Writer().shortstr(""));
    return this.expect(M.channelOpenOk);
  }

  /** Replies close-ok to a server-initiated close (connection or channel). */
  closeOk(channel = 0) {
    this.method(channel, channel === 0 ? M.connectionCloseOk : M.channelCloseOk);
  }

  destroy() {
    this.socket.destroy();
  }
}

/**
 * Runs the connection handshake step by step. Every step can be bent by an option, and the
 * function stops at the first frame that is not the expected one, returning it:
 *   { conn, start, tune, openOk }   when everything went through, or
 *   { conn, start, tune?, close }   when the server sent connection.close instead, or
 *   { conn, start, tune?, socketClosed: true } when the server just hung up.
 * @param {{ host: string, port: number, user?: string, password?: string, vhost?: string,
 *   mechanism?: "PLAIN"|"AMQPLAIN"|"EXTERNAL", capabilities?: Record<string, boolean>,
 *   tuneOk?: (tune: {channelMax: number, frameMax: number, heartbeat: number}) =>
 *     {channelMax: number, frameMax: number, heartbeat: number} }} o
 */
export async function handshake(o) {
  const conn = await RawConnection.connect(o.host, o.port);
  const user = o.user ?? "guest";
  const password = o.password ?? "guest";
  const mechanism = o.mechanism ?? "PLAIN";
  const capabilities = o.capabilities ?? {
    authentication_failure_close: true,
    consumer_cancel_notify: true,
    "connection.blocked": true,
    publisher_confirms: true,
    basic_nack: true,
  };
  conn.write(PROTOCOL_HEADER);
  const startFrame = await conn.expect(M.connectionStart);
  const start = {
    versionMajor: startFrame.args.readUInt8(0),
    versionMinor: startFrame.args.readUInt8(1),
    mechanisms: readLongstrAfterTable(startFrame.args, 2, 0),
    locales: readLongstrAfterTable(startFrame.args, 2, 1),
  };
  const response =
    mechanism === "AMQPLAIN"
      ? tableBody({ LOGIN: user, PASSWORD: password })
      : Buffer.from(`\0${user}\0${password}`);
  conn.method(
    0,
    M.connectionStartOk,
    new Writer()
      .table({ product: "warren-interop-raw", capabilities })
      .shortstr(mechanism)
      .longstr(response)
      .shortstr("en_US"),
  );

  let tuneFrame;
  try {
    tuneFrame = await conn.expect(M.connectionTune, M.connectionClose);
  } catch {
    return { conn, start, socketClosed: true };
  }
  if (tuneFrame.close) return { conn, start, close: tuneFrame.close };
  const tune = {
    channelMax: tuneFrame.args.readUInt16BE(0),
    frameMax: tuneFrame.args.readUInt32BE(2),
    heartbeat: tuneFrame.args.readUInt16BE(6),
  };
  const ok = o.tuneOk ? o.tuneOk(tune) : { ...tune, heartbeat: 0 };
  conn.method(0, M.connectionTuneOk, new Writer().short(ok.channelMax).long(ok.frameMax).short(ok.heartbeat));
  conn.method(
    0,
    M.connectionOpen,
    new Writer()
      .shortstr(o.vhost ?? "/")
      .shortstr("")
      .bits(false),
  );
  let openFrame;
  try {
    openFrame = await conn.expect(M.connectionOpenOk, M.connectionClose);
  } catch {
    return { conn, start, tune, socketClosed: true };
  }
  if (openFrame.close) return { conn, start, tune, close: openFrame.close };
  return { conn, start, tune, openOk: true };
}

// connection.start args: version-major, version-minor, server-properties (table),
// mechanisms (longstr), locales (longstr). Returns the n-th longstr after the table.
function readLongstrAfterTable(args, offset, n) {
  let pos = offset + 4 + args.readUInt32BE(offset);
  for (let i = 0; i < n; i++) pos += 4 + args.readUInt32BE(pos);
  return args.toString("utf8", pos + 4, pos + 4 + args.readUInt32BE(pos));
}

/** Sends arbitrary bytes as the protocol header; resolves with everything the server sent back
 *  and whether it then closed the socket. */
export async function sendHeader(host, port, bytes, timeoutMs = 3000) {
  const conn = await RawConnection.connect(host, port);
  conn.parseFrames = false;
  conn.write(bytes);
  let closed = true;
  try {
    await conn.waitClosed(timeoutMs);
  } catch {
    closed = false;
  }
  conn.destroy();
  return { reply: conn.raw, closed };
}
