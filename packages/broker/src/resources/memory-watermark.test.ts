import assert from "node:assert/strict";
import { test } from "node:test";
import { parseByteSize } from "./byte-size.js";
import { parseMemoryWatermark, watermarkBytes } from "./memory-watermark.js";

test("sizes use RabbitMQ's units: KB/MB/GB powers of 1000, KiB/MiB/GiB and K/M/G powers of 1024", () => {
  assert.equal(parseByteSize("268435456"), 268435456);
  assert.equal(parseByteSize("256MiB"), 256 * 1024 * 1024);
  assert.equal(parseByteSize("256M"), 256 * 1024 * 1024);
  assert.equal(parseByteSize("1GB"), 1e9);
  assert.equal(parseByteSize("1 gib"), 1024 ** 3);
  assert.equal(parseByteSize("1.5KB"), 1500);
  for (const bad of ["", "abc", "-1", "12 parsecs", "1e9"])
    assert.throws(() => parseByteSize(bad), /invalid size/);
});

test("a watermark up to 1 is a fraction of the memory available, anything else a size", () => {
  assert.deepEqual(parseMemoryWatermark("0.4"), { fraction: 0.4 });
  assert.deepEqual(parseMemoryWatermark("1"), { fraction: 1 });
  assert.deepEqual(parseMemoryWatermark("512MiB"), { bytes: 512 * 1024 * 1024 });
  assert.deepEqual(parseMemoryWatermark("268435456"), { bytes: 268435456 });
  const fraction = watermarkBytes({ fraction: 0.5 });
  assert.ok(fraction > 0 && Number.isInteger(fraction));
  assert.equal(watermarkBytes({ bytes: 1234 }), 1234);
});
