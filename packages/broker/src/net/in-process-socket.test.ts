import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { InProcessSocket } from "./in-process-socket.js";

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("InProcessSocket", () => {
  it("delivers in order, in a later tick, and counts bytes", async () => {
    const [a, b] = InProcessSocket.pair();
    const got: string[] = [];
    b.on("data", (d: Buffer) => got.push(d.toString()));
    a.write(Buffer.from("one"));
    a.write(Buffer.from("two"));
    // Never inside write(): neither side re-enters the other.
    assert.deepEqual(got, []);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(got, ["one", "two"]);
    assert.equal(a.bytesWritten, 6);
    assert.equal(b.bytesRead, 6);
    assert.equal(a.remoteAddress, "in-process");
    assert.equal(a.localPort, b.remotePort);
    a.destroy();
    await once(b, "close");
  });

  it("hands a big write to the reader in pieces of at most 64 KiB, as socket reads", async () => {
    const [a, b] = InProcessSocket.pair();
    const sizes: number[] = [];
    let data = Buffer.alloc(0);
    b.on("data", (d: Buffer) => {
      sizes.push(d.length);
      data = Buffer.concat([data, d]);
    });
    const big = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    a.write(big);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sizes, [65536, 65536, 65536, 3392]);
    assert.ok(data.equals(big));
    a.destroy();
  });

  it("pushes back on a writer whose reader has paused, and drains when it resumes", async () => {
    const [a, b] = InProcessSocket.pair();
    let received = 0;
    b.on("data", (d: Buffer) => (received += d.length));
    b.pause();
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    while (a.write(chunk)) {
      written += chunk.length;
      assert.ok(written < 64 << 20, "write() never returned false");
    }
    written += chunk.length;
    await new Promise((r) => setImmediate(r));
    assert.equal(received, 0);
    assert.ok(a.writableLength > 0);
    const drained = once(a, "drain");
    b.resume();
    await drained;
    await new Promise((r) => setImmediate(r));
    assert.equal(received, written);
    a.destroy();
  });

  it("ends the other side after the data written before end()", async () => {
    const [a, b] = InProcessSocket.pair();
    let data = "";
    b.on("data", (d: Buffer) => (data += d.toString()));
    a.end(Buffer.from("last words"));
    await Promise.all([once(b, "end"), once(a, "close"), once(b, "close")]);
    assert.equal(data, "last words");
  });

  it("closes the other side on destroy(), after what was already written", async () => {
    const [a, b] = InProcessSocket.pair();
    let data = "";
    b.on("data", (d: Buffer) => (data += d.toString()));
    a.write(Buffer.from("bye"));
    a.destroy();
    await once(b, "close");
    assert.equal(data, "bye");
    assert.equal(b.destroyed, true);
  });

  it("keeps the process alive while open, and no longer", async () => {
    const before = timeouts();
    const [a, b] = InProcessSocket.pair();
    assert.equal(timeouts(), before + 1);
    b.destroy();
    await once(a, "close");
    assert.equal(timeouts(), before);
  });
});
