#!/usr/bin/env node
// Prints the known-answer vectors used by src/known-answer.test.ts, produced by two codecs
// that share no code with ours: amqplib (node_modules/amqplib, lib/defs.js + lib/codec.js +
// lib/frame.js) and Debian's python3-amqp (amqp.serialization + amqp.method_framing).
// The hex is pasted into the test by hand; this script only documents how it was made:
//
//   node packages/protocol/scripts/known-answer-vectors.mjs
//
// Where both libraries can encode a vector, both are run and must agree byte for byte.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const amqplib = join(here, "..", "..", "..", "node_modules", "amqplib");
const defs = require(join(amqplib, "lib", "defs.js"));
const codec = require(join(amqplib, "lib", "codec.js"));
const frame = require(join(amqplib, "lib", "frame.js"));
const amqplibVersion = require(join(amqplib, "package.json")).version;

const out = {};
const hex = (b) => Buffer.from(b).toString("hex");

// ---- amqplib
const serverProperties = {
  product: "RabbitMQ",
  version: "3.13.7",
  platform: "Erlang/OTP 26.2.5",
  capabilities: {
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    "basic.nack": true,
    consumer_cancel_notify: true,
    "connection.blocked": true,
    consumer_priorities: true,
    authentication_failure_close: true,
    per_consumer_qos: true,
    direct_reply_to: true,
  },
  cluster_name: "rabbit@warren",
  copyright: "Copyright (c) 2007-2024 Broadcom Inc and/or its subsidiaries",
  information: "Licensed under the MPL 2.0. Website: https://rabbitmq.com",
};
out.connectionStart = hex(
  defs.encodeMethod(defs.ConnectionStart, 0, {
    versionMajor: 0,
    versionMinor: 9,
    serverProperties,
    mechanisms: Buffer.from("AMQPLAIN PLAIN"),
    locales: Buffer.from("en_US"),
  }),
);

const allProps = {
  contentType: "application/json",
  contentEncoding: "gzip",
  headers: { "x-retries": 3, "x-origin": "eu-west", "x-trace": true },
  deliveryMode: 2,
  priority: 7,
  correlationId: "corr-42",
  replyTo: "amq.rabbitmq.reply-to",
  expiration: "60000",
  messageId: "msg-0001",
  timestamp: 1700000000,
  type: "order.created",
  userId: "guest",
  appId: "warren-test",
  clusterId: "c1",
};
const publishBody = Buffer.from("hello, warren!");
out.basicPublish = hex(
  Buffer.concat([
    defs.encodeMethod(defs.BasicPublish, 1, {
      ticket: 0,
      exchange: "amq.topic",
      routingKey: "orders.eu.created",
      mandatory: true,
      immediate: false,
    }),
    defs.encodeProperties(defs.BasicProperties, 1, publishBody.length, allProps),
    frame.makeBodyFrame(1, publishBody),
  ]),
);

const deliverBody = Buffer.from([0, 1, 2, 3, 0xfe, 0xff]);
out.basicDeliver = hex(
  Buffer.concat([
    defs.encodeMethod(defs.BasicDeliver, 7, {
      consumerTag: "amq.ctag-Wq9Zt0mJ3nW_Ug5sQ",
      deliveryTag: 2 ** 40 + 5,
      redelivered: true,
      exchange: "",
      routingKey: "task_queue",
    }),
    defs.encodeProperties(defs.BasicProperties, 7, deliverBody.length, {
      contentType: "text/plain",
      deliveryMode: 2,
      messageId: "m-17",
      timestamp: 1700000123,
    }),
    frame.makeBodyFrame(7, deliverBody),
  ]),
);

// Every field type amqplib can write ('L' it cannot: see the python part).
const scratch = Buffer.alloc(4096);
const tableLen = codec.encodeTable(
  scratch,
  {
    bool: true,
    byte: { "!": "int8", value: -5 },
    ubyte: { "!": "uint8", value: 250 },
    short: { "!": "int16", value: -30000 },
    ushort: { "!": "uint16", value: 60000 },
    int: { "!": "int32", value: -2000000000 },
    uint: { "!": "uint32", value: 4000000000 },
    long: { "!": "int64", value: -1099511627776 },
    float: { "!": "float", value: 1.5 },
    double: { "!": "double", value: -2.25 },
    decimal: { "!": "decimal", value: { places: 2, digits: 12345 } },
    string: "h\u00e9llo",
    array: [1, "two", false, null],
    timestamp: { "!": "timestamp", value: 1700000000 },
    table: { nested: "yes", n: { "!": "int32", value: 7 } },
    bytes: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
    void: null,
  },
  0,
);
out.tableAmqplib = hex(scratch.subarray(0, tableLen));

// ---- python3-amqp
const py = `
import json, sys
from datetime import datetime, timezone
from decimal import Decimal
import amqp
from amqp.serialization import dumps
from amqp.method_framing import frame_writer
from amqp.basic_message import Message

class Conn:
    frame_max = 131072
    bytes_sent = 0
class Transport:
    def __init__(self): self.data = b""
    def write(self, b): self.data += bytes(b)

def frames(*calls):
    t = Transport()
    w = frame_writer(Conn(), t)
    for c in calls: w(*c)
    return t.data.hex()

out = {"version": amqp.__version__}
server_properties = {
    "product": "RabbitMQ",
    "version": "3.13.7",
    "platform": "Erlang/OTP 26.2.5",
    "capabilities": {
        "publisher_confirms": True,
        "exchange_exchange_bindings": True,
        "basic.nack": True,
        "consumer_cancel_notify": True,
        "connection.blocked": True,
        "consumer_priorities": True,
        "authentication_failure_close": True,
        "per_consumer_qos": True,
        "direct_reply_to": True,
    },
    "cluster_name": "rabbit@warren",
    "copyright": "Copyright (c) 2007-2024 Broadcom Inc and/or its subsidiaries",
    "information": "Licensed under the MPL 2.0. Website: https://rabbitmq.com",
}
out["connectionStart"] = frames(
    (1, 0, (10, 10), dumps("ooFSS", [0, 9, server_properties, "AMQPLAIN PLAIN", "en_US"]), None))

body = bytes([0, 1, 2, 3, 0xfe, 0xff])
msg = Message(body, content_type="text/plain", delivery_mode=2, message_id="m-17", timestamp=1700000123)
out["basicDeliver"] = frames(
    (1, 7, (60, 60), dumps("sLbss", ["amq.ctag-Wq9Zt0mJ3nW_Ug5sQ", 2**40 + 5, True, "", "task_queue"]), msg))

# python3-amqp writes a big int as 'L' (signed 64-bit), a datetime as 'T', a Decimal as 'D'.
out["tablePython"] = dumps("F", [{
    "longL": -(2**62) - 3,
    "int": -7,
    "str": "x",
    "bool": False,
    "double": 0.1,
    "decimal": Decimal("-3.14"),
    "ts": datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc),
    "arr": [1, [], {}],
    "void": None,
}]).hex()
print(json.dumps(out))
`;
const pyOut = JSON.parse(execFileSync("/usr/bin/python3", ["-c", py], { encoding: "utf8" }));
if (pyOut.connectionStart !== out.connectionStart)
  throw new Error("amqplib and py-amqp disagree on connection.start");
if (pyOut.basicDeliver !== out.basicDeliver) throw new Error("amqplib and py-amqp disagree on basic.deliver");
out.tablePython = pyOut.tablePython;

console.log(`// amqplib ${amqplibVersion}, python3-amqp ${pyOut.version} (Debian), node ${process.version}`);
for (const [k, v] of Object.entries(out)) {
  console.log(`${k}:`);
  for (let i = 0; i < v.length; i += 96) console.log(`  "${v.slice(i, i + 96)}" +`);
}
