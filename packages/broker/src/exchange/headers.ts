import { decodeRawValue, type FieldValue, headersRange, tableEntries, TypedValue } from "@warren/protocol";
import type { Message } from "../message.js";
import type { Binding, Destination, ExchangeType } from "./exchange-type.js";

type MatchMode = "all" | "any" | "all-with-x" | "any-with-x";

interface HeaderBinding {
  readonly binding: Binding;
  readonly mode: MatchMode;
  readonly pairs: [string, FieldValue][];
}

function plain(v: FieldValue): unknown {
  if (v instanceof TypedValue) {
    const x = v.value;
    if (typeof x === "bigint") return Number(x);
    if (Buffer.isBuffer(x)) return x.toString("latin1");
    return typeof x === "object" ? JSON.stringify(x) : x;
  }
  if (typeof v === "bigint") return Number(v);
  if (Buffer.isBuffer(v)) return v.toString("latin1");
  if (v !== null && typeof v === "object")
    return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? Number(x) : x));
  return v;
}

/** A raw header value against a binding value, compared as plain values. */
function equals(header: Buffer, v: FieldValue): boolean {
  const d = decodeRawValue(header);
  return d !== undefined && plain(d) === plain(v);
}

/** Matches message headers against binding arguments, per x-match. */
export class HeadersExchange implements ExchangeType {
  private readonly bindings: HeaderBinding[] = [];

  bind(b: Binding): void {
    const raw = b.args["x-match"];
    const mode = (typeof raw === "string" ? raw : "all") as MatchMode;
    const withX = mode === "all-with-x" || mode === "any-with-x";
    const pairs: [string, FieldValue][] = [];
    for (const [k, v] of Object.entries(b.args)) {
      if (k === "x-match") continue;
      if (!withX && k.startsWith("x-")) continue;
      pairs.push([k, v]);
    }
    this.bindings.push({ binding: b, mode, pairs });
  }

  unbind(b: Binding): void {
    const i = this.bindings.findIndex(
      (h) => h.binding.key === b.key && h.binding.destination === b.destination,
    );
    if (i >= 0) this.bindings.splice(i, 1);
  }

  route(_routingKey: string, msg: Message, out: Destination[]): void {
    if (this.bindings.length === 0) return;
    // Only the top level is read; a header's value is decoded when a binding compares it.
    const raw = msg.rawProps;
    const range = headersRange(raw);
    const headers = new Map<string, Buffer>();
    if (range) for (const e of tableEntries(raw, range[0], range[1])) headers.set(e.key, e.value);
    for (const hb of this.bindings) if (matches(hb, headers)) out.push(hb.binding.destination);
  }
}

function matches(hb: HeaderBinding, headers: Map<string, Buffer>): boolean {
  const all = hb.mode === "all" || hb.mode === "all-with-x";
  if (hb.pairs.length === 0) return all;
  for (const [k, v] of hb.pairs) {
    const h = headers.get(k);
    // A void binding value asks only that the header be present. A value too deeply nested to
    // decode equals no binding value.
    const ok = h !== undefined && (v === null || v === undefined || equals(h, v));
    if (all && !ok) return false;
    if (!all && ok) return true;
  }
  return all;
}
