#!/usr/bin/env node
// Codec micro-benchmark: encode and decode throughput of the two hottest frame sequences.
//
//   (a) basic.publish with a 16-byte body: method + content header + body frame
//       encode = writeMethodFrame + writeContent (raw properties prepared once, as a client
//                that reuses its options would)
//       decode = FrameReader over 64 KiB chunks + decodeMethod + decodeContentHeader +
//                peekDeliveryMode (what the broker does with a publish)
//   (b) basic.deliver with typical properties (content-type, delivery-mode 2, message-id,
//       timestamp, a 5-entry headers table) and a 16-byte body
//       encode = writeDeliver (the broker's path: raw properties passed through)
//       decode = FrameReader + decodeMethod + decodeContentHeader + decodeRawProperties
//                (what a client does with a delivery)
//
// Each case warms up, then runs for ~2 s (BENCH_SECONDS to change; BENCH_FILTER=substring runs
// only the matching cases; BENCH_JSON=1 adds a JSON line). Dependency-free: it only
// imports the built protocol package. Run with `npm run bench` (builds first).
import {
  decodeContentHeader,
  decodeMethod,
  decodeRawProperties,
  encodeRawProperties,
  FrameReader,
  FrameType,
  peekDeliveryMode,
  typed,
  Writer,
  writeContent,
  writeDeliver,
  writeMethodFrame,
} from "../packages/protocol/dist/index.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP_SECONDS = Math.min(0.5, SECONDS / 4);
const FRAME_MAX = 131072;
const CHUNK = 65536;
const BATCH = 1000; // messages per timed batch

/** Runs fn(BATCH) repeatedly for `seconds`; returns messages per second. */
function measure(fn, seconds) {
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(Math.round(seconds * 1e9));
  let now;
  do {
    fn(BATCH);
    n += BATCH;
    now = process.hrtime.bigint();
  } while (now < limit);
  return (n * 1e9) / Number(now - start);
}

const results = [];
const FILTER = process.env.BENCH_FILTER ?? "";
function bench(name, framesPerMessage, bytesPerMessage, fn) {
  if (!name.includes(FILTER)) return;
  measure(fn, WARMUP_SECONDS);
  const msgs = measure(fn, SECONDS);
  const row = {
    name,
    msgs,
    frames: msgs * framesPerMessage,
    mb: (msgs * bytesPerMessage) / 1e6,
  };
  results.push(row);
  console.log(
    `${name.padEnd(30)} ${fmt(row.frames).padStart(8)} frames/s  ${fmt(row.msgs).padStart(8)} msgs/s  ${row.mb
      .toFixed(1)
      .padStart(7)} MB/s`,
  );
}
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`);

/** Cuts a stream into socket-sized chunks. */
function chunks(buf) {
  const out = [];
  for (let o = 0; o < buf.length; o += CHUNK) out.push(buf.subarray(o, o + CHUNK));
  return out;
}

let sink = 0; // keeps results alive so that nothing is optimised away

/**
 * Runs encode(1) for the size of one message, then encode(BATCH): the bytes it left in writer,
 * cut into socket-sized chunks, are the stream a decode case reads.
 */
function encodeOnce(writer, encode) {
  encode(1);
  const bytes = writer.pos;
  encode(BATCH);
  return { bytes, stream: chunks(Buffer.from(writer.buf.subarray(0, writer.pos))) };
}

/** A decode case: the whole stream through a fresh FrameReader, every frame to onFrame. */
const decodeAll = (stream, onFrame) => () => {
  const reader = new FrameReader(FRAME_MAX);
  for (const chunk of stream) reader.push(chunk, onFrame);
};

// ---------------------------------------------------------------- (a) basic.publish
const body16 = Buffer.from("0123456789abcdef");
const publishProps = encodeRawProperties({ contentType: "text/plain", deliveryMode: 2 });
const publish = {
  name: "basic.publish",
  exchange: "amq.topic",
  routingKey: "orders.eu.created",
  mandatory: false,
};

const pw = new Writer(1 << 20);
const encodePublish = (n) => {
  pw.reset();
  for (let i = 0; i < n; i++) {
    writeMethodFrame(pw, 1, publish);
    writeContent(pw, 1, publishProps, body16, FRAME_MAX);
  }
  sink += pw.pos;
};
const { bytes: publishBytes, stream: publishStream } = encodeOnce(pw, encodePublish);

const decodePublish = decodeAll(publishStream, (type, channel, buf, start, end) => {
  if (type === FrameType.METHOD) sink += decodeMethod(buf, start, end).routingKey.length;
  else if (type === FrameType.HEADER) {
    const h = decodeContentHeader(buf, start, end);
    sink += h.bodySize + peekDeliveryMode(h.rawProperties);
  } else sink += end - start + channel;
});

// ---------------------------------------------------------------- (b) basic.deliver
const deliverProps = {
  contentType: "application/json",
  deliveryMode: 2,
  messageId: "5f8a3c1e-2b7d-4e0a-9c61-0d3f2a7b8e45",
  timestamp: 1_700_000_000,
  headers: {
    "x-request-id": "req-81723",
    "x-retry-count": 2,
    "x-source": "orders-service",
    "x-priority-class": typed.byte(3),
    "x-traced": true,
  },
};
const deliverRaw = encodeRawProperties(deliverProps);
const dw = new Writer(1 << 20);
let tag = 1;
const encodeDeliver = (n) => {
  dw.reset();
  for (let i = 0; i < n; i++) {
    writeDeliver(
      dw,
      1,
      "amq.ctag-Wq9Zt0mJ3nW_Ug5sQ",
      tag++,
      false,
      "amq.topic",
      "orders.eu.created",
      deliverRaw,
      body16,
      FRAME_MAX,
    );
  }
  sink += dw.pos;
};
const { bytes: deliverBytes, stream: deliverStream } = encodeOnce(dw, encodeDeliver);

const decodeDeliver = decodeAll(deliverStream, (type, channel, buf, start, end) => {
  if (type === FrameType.METHOD) sink += decodeMethod(buf, start, end).name.length;
  else if (type === FrameType.HEADER) {
    const h = decodeContentHeader(buf, start, end);
    sink += decodeRawProperties(h.rawProperties).deliveryMode;
  } else sink += end - start + channel;
});

// ---------------------------------------------------------------- run
console.log(
  `warren codec bench: node ${process.version}, ${SECONDS}s per case, 16-byte bodies, frame_max ${FRAME_MAX}`,
);
console.log(`publish: ${publishBytes} bytes/msg; deliver: ${deliverBytes} bytes/msg (3 frames each)`);
bench("(a) basic.publish   encode", 3, publishBytes, encodePublish);
bench("(a) basic.publish   decode", 3, publishBytes, decodePublish);
bench("(b) basic.deliver   encode", 3, deliverBytes, encodeDeliver);
bench("(b) basic.deliver   decode", 3, deliverBytes, decodeDeliver);
if (sink === 0.5) console.log(sink);
if (process.env.BENCH_JSON) console.log(JSON.stringify(results));
