// Settings resolution: rabbitmq.conf syntax, RabbitMQ's value forms, precedence, and errors
// that name the key and line. Value forms checked against RabbitMQ 3.10.8's cuttlefish and
// rabbit_resource_monitor_misc (see docs/configuration.md).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ConfigError } from "./config-error.js";
import { resolveSettings } from "./resolve-settings.js";
import type { Setting } from "./setting.js";
import { SETTINGS } from "./settings.js";

const dir = mkdtempSync(join(tmpdir(), "warren-conf-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Writes a config file and resolves with it (plus flags and environment). */
function withFile(text: string, argv: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, `${n++}.conf`);
  writeFileSync(file, text);
  return resolveSettings(["--config", file, ...argv], env);
}

/** The ConfigError message of resolving this file. */
function errorOf(text: string): string {
  try {
    withFile(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail("no error");
}

test("defaults without flags, environment or file", () => {
  const s = resolveSettings([], {});
  assert.deepEqual(s.values.port, { port: 5672 });
  assert.equal(s.values.dataDir, "./data");
  assert.equal(s.values.managementPort, 15672);
  assert.equal(s.values.diskFreeLimit, 50_000_000);
  assert.equal(s.values.defaultUser, "guest");
  assert.deepEqual(s.values.defaultUserTags, ["administrator"]);
  assert.deepEqual(s.values.loopbackUsers, ["guest"]);
  assert.equal(s.values.logLevel, "info");
  assert.equal(s.values.definitions, undefined);
  assert.equal(s.sources.port, "default");
});

test("rabbitmq.conf syntax: comments anywhere, free spacing, last line wins", () => {
  const s = withFile(
    [
      "# a comment",
      "",
      "   listeners.tcp.default=127.0.0.1:5999   ",
      "default_pass = se cret # not part of the value, as in RabbitMQ",
      "default_user = a",
      "default_user = b",
      "default_vhost = a = b",
    ].join("\r\n"),
  );
  assert.deepEqual(s.values.port, { host: "127.0.0.1", port: 5999 });
  assert.equal(s.values.defaultPass, "se cret");
  assert.equal(s.values.defaultUser, "b");
  assert.equal(s.values.defaultVhost, "a = b");
  assert.equal(s.sources.port, "file");
});

test("RabbitMQ's value forms", () => {
  const s = withFile(
    [
      "listeners.ssl.default = ::1:5671",
      "disk_free_limit.absolute = 1GB",
      "vm_memory_high_watermark.absolute = 512MiB",
      "max_message_size = 1048576",
      "connection_max = infinity",
      "handshake_timeout = 5000",
      "frame_max = 128KB",
      "channel_max = 0",
      "default_user_tags.administrator = false",
      "default_user_tags.monitoring = true",
      "default_user_tags.management = true",
      "loopback_users.guest = false",
      "ssl_options.verify = verify_peer",
      "log.default.level = warning",
      "log.console.formatter = json",
      "log.file = false",
    ].join("\n"),
  );
  const v = s.values;
  assert.deepEqual(v.tlsPort, { host: "::1", port: 5671 });
  assert.equal(v.diskFreeLimit, 1_000_000_000);
  assert.equal(v.memoryHighWatermark, 512 * 1024 * 1024);
  assert.equal(v.maxMessageSize, 1048576);
  assert.equal(v.maxConnections, Infinity);
  assert.equal(v.handshakeTimeout, 5000);
  assert.equal(v.frameMax, 128 * 1024, "cuttlefish's bytesize: KB is 1024");
  assert.equal(v.channelMax, 65535, "0: no limit");
  assert.deepEqual(v.defaultUserTags, ["monitoring", "management"]);
  assert.deepEqual(v.loopbackUsers, [], "only names set to true remain");
  assert.equal(v.tlsVerifyPeer, true);
  assert.equal(v.logLevel, "warn");
  assert.equal(v.logFormat, "json");
  assert.equal(v.logFile, undefined);
});

test("information units as RabbitMQ's: kB/MB/GB are powers of 1000, k/M/G and KiB/MiB/GiB of 1024", () => {
  const sizes: [string, number][] = [
    ["50000000", 50_000_000],
    ["50MB", 50_000_000],
    ["50mb", 50_000_000],
    ["1kB", 1000],
    ["1k", 1024],
    ["1kiB", 1024],
    ["1M", 1024 ** 2],
    ["1MiB", 1024 ** 2],
    ["1G", 1024 ** 3],
    ["1GB", 1e9],
  ];
  for (const [text, bytes] of sizes)
    assert.equal(withFile(`disk_free_limit.absolute = ${text}`).values.diskFreeLimit, bytes, text);
});

test(".relative wins over .absolute whatever the order, as RabbitMQ's translation", () => {
  const s = withFile("vm_memory_high_watermark.relative = 0.6\nvm_memory_high_watermark.absolute = 1GB\n");
  assert.equal(s.values.memoryHighWatermark, 0.6);
});

test("precedence: flag over environment over file over default", () => {
  const file = "management.tcp.port = 1111\nheartbeat = 11\ndefault_user = file\n";
  const env = { WARREN_MANAGEMENT_PORT: "2222", WARREN_HEARTBEAT: "22", WARREN_DEFAULT_VHOST: "" };
  const s = withFile(file, ["--management-port", "3333"], env);
  assert.equal(s.values.managementPort, 3333);
  assert.equal(s.sources.managementPort, "flag");
  assert.equal(s.values.heartbeat, 22);
  assert.equal(s.sources.heartbeat, "env");
  assert.equal(s.values.defaultUser, "file");
  assert.equal(s.sources.defaultUser, "file");
  assert.equal(s.values.defaultVhost, "/", "an empty variable is unset");
  assert.equal(s.sources.defaultVhost, "default");
});

test("the config file can come from WARREN_CONFIG", () => {
  const file = join(dir, "env.conf");
  writeFileSync(file, "default_vhost = from-env-file\n");
  assert.equal(resolveSettings([], { WARREN_CONFIG: file }).values.defaultVhost, "from-env-file");
});

test("an unknown key or a bad value names the line and the key", () => {
  assert.match(errorOf("\n\nfoo.bar = 1\n"), /\.conf, line 3: unknown key 'foo.bar'/);
  assert.match(
    errorOf("log.level = debug\n"),
    /line 1: unknown key 'log.level' \(known keys: log.default.level, log.console.level, log.file.level\)/,
  );
  assert.match(
    errorOf("# x\ndisk_free_limit.absolute = 1.5 GiBs\n"),
    /line 2: disk_free_limit.absolute: invalid size/,
  );
  assert.match(errorOf("listeners.tcp.default = 70000\n"), /line 1: listeners.tcp.default: expected a port/);
  assert.match(errorOf("listeners.tcp.default = localhost:5672\n"), /expected a port or IP:port/);
  assert.match(errorOf("vm_memory_high_watermark.relative = 1.5\n"), /expected a fraction from 0 to 1/);
  assert.match(
    errorOf("max_message_size = 600000000\n"),
    /line 1: max_message_size: expected a size from 1 byte to 512MiB/,
  );
  assert.match(errorOf("default_user_tags.administrator = maybe\n"), /expected true or false/);
  assert.match(errorOf("log.default.level = loud\n"), /log.default.level: expected debug, info/);
  assert.match(
    errorOf("ssl_options.certfile = /no/such.pem\n"),
    /ssl_options.certfile: file "\/no\/such.pem" does not exist/,
  );
  assert.match(errorOf("just words\n"), /line 1: expected "key = value", got "just words"/);
  assert.match(errorOf("default_user =\n"), /line 1: expected "key = value"/);
  assert.match(
    errorOf("listeners.tcp.a = 5672\nlisteners.tcp.b = 5673\n"),
    /line 2: listeners.tcp.b: Warren has one listener of this kind, and line 1 already sets listeners.tcp.a/,
  );
});

test("a bad flag or environment value names the flag or the variable", () => {
  assert.throws(
    () => resolveSettings(["--port", "x"], {}),
    /^ConfigError: --port: expected a port or IP:port/,
  );
  assert.throws(
    () => resolveSettings([], { WARREN_HEARTBEAT: "-1" }),
    /^ConfigError: WARREN_HEARTBEAT: expected seconds/,
  );
  assert.throws(() => resolveSettings(["--config", join(dir, "none.conf")], {}), /cannot read config file/);
  assert.throws(() => resolveSettings(["--no-such-flag"], {}), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" });
});

test("describe names a setting by flag and config keys", () => {
  const s = resolveSettings([], {});
  assert.equal(s.describe("tlsCert"), "--tls-cert (ssl_options.certfile)");
  assert.equal(s.describe("logConsole"), "log.console");
});

test("docs/configuration.md names every flag, environment variable and config key", () => {
  const doc = readFileSync(new URL("../../../../docs/configuration.md", import.meta.url), "utf8");
  for (const s of Object.values(SETTINGS) as Setting<unknown>[]) {
    const names = [s.flag && `\`--${s.flag}`, s.env && `\`${s.env}\``];
    for (const k of s.keys ?? []) names.push(k.key.replace(/\.\*$/, "."));
    for (const name of names) if (name) assert.ok(doc.includes(name), `docs/configuration.md lacks ${name}`);
  }
});
