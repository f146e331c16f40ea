import fs from "node:fs";
import { alignedBuffer, wordView } from "./checksum.js";
import { listSegments, segmentPath } from "./files.js";
import { QueueIndex } from "./queue-index.js";
import {
  DEL,
  DLV,
  ENQ,
  forEachDelEntry,
  PUB,
  QDECL,
  recordQid,
  recordType,
  SEGMENT_HEADER,
  SEGMENT_MAGIC,
  scanRecords,
} from "./record.js";
import { idOffset, idSlot, makeId, Segment } from "./segment.js";

export interface RecoveryReport {
  segments: number;
  records: number;
  /** Queue memberships recovered (a fanout message counts once per queue). */
  messages: number;
  queues: number;
  /** Bytes of damaged records skipped, torn tail included. */
  skippedBytes: number;
  skippedRecords: number;
  /** Of skippedBytes: the torn tail cut off the newest segment. */
  truncatedBytes: number;
  /** References to records that no longer exist (a damaged PUB), dropped. */
  danglingRefs: number;
  ms: number;
}

export interface Recovered {
  segments: Segment[];
  queues: Map<string, QueueIndex>;
  /** Per queue, its recovered ids that a DLV record says were delivered (and not acked). */
  delivered: Map<string, Set<number>>;
  report: RecoveryReport;
}

/** Reads the whole of fd (size bytes) into buf. */
function readAll(fd: number, buf: Buffer, size: number): number {
  let n = 0;
  while (n < size) {
    const r = fs.readSync(fd, buf, n, size - n, n);
    if (r === 0) break;
    n += r;
  }
  return n;
}

/** Sorted offsets of PUB records per segment, to check ENQ targets once replay is done. */
class OffsetList {
  a = new Uint32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  has(v: number): boolean {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = this.a[mid]!;
      if (x < v) lo = mid + 1;
      else if (x > v) hi = mid - 1;
      else return true;
    }
    return false;
  }
}

/**
 * Replays every segment in order: PUB and ENQ put a message id in a queue, DEL takes it out,
 * QDECL names the segment's queue ids. What is left are the ready messages per queue in
 * enqueue order, plus each segment's live count and DEL dependencies. A torn tail on the
 * newest segment is cut off so it is not reported again.
 */
export function recoverSegments(dir: string, warn: (msg: string) => void): Recovered {
  const t0 = performance.now();
  const seqs = listSegments(dir);
  const segs = new Map<number, Segment>();
  const slots = new Map<number, number>();
  for (const seq of seqs) {
    const p = segmentPath(dir, seq);
    const seg = new Segment(seq, p, fs.statSync(p).size);
    const other = slots.get(seg.slot);
    if (other !== undefined) throw new Error(`segments ${other} and ${seq} share id slot ${seg.slot}`);
    slots.set(seg.slot, seq);
    segs.set(seq, seg);
  }
  const queues = new Map<string, QueueIndex>();
  /** Per queue: delivered ids still in it -> the segment of the (latest) DLV saying so. */
  const dlv = new Map<QueueIndex, Map<number, number>>();
  const pubs = new Map<number, OffsetList>();
  const report: RecoveryReport = {
    segments: seqs.length,
    records: 0,
    messages: 0,
    queues: 0,
    skippedBytes: 0,
    skippedRecords: 0,
    truncatedBytes: 0,
    danglingRefs: 0,
    ms: 0,
  };
  let buf = alignedBuffer(1 << 20);
  let orphans = 0;

  for (const seg of segs.values()) {
    if (buf.length < seg.size) buf = alignedBuffer(seg.size);
    const words = wordView(buf);
    const fd = fs.openSync(seg.path, "r+");
    try {
      const size = readAll(fd, buf, seg.size);
      if (size < SEGMENT_HEADER || buf.toString("latin1", 0, 8) !== SEGMENT_MAGIC) {
        warn(`segment ${seg.path}: bad header, scanning anyway`);
      }
      const local = new Map<number, QueueIndex>();
      const offsets = new OffsetList();
      pubs.set(seg.seq, offsets);
      const scan = scanRecords(buf, words, Math.min(SEGMENT_HEADER, size), size, (pos) => {
        report.records++;
        const type = recordType(buf, pos);
        const qid = recordQid(buf, pos);
        if (type === QDECL) {
          const name = buf.toString("utf8", pos + 16, pos + 8 + buf.readUInt32LE(pos + 4));
          let q = queues.get(name);
          if (!q) queues.set(name, (q = new QueueIndex(name)));
          local.set(qid, q);
          return;
        }
        if (type === PUB) offsets.push(pos);
        const q = local.get(qid);
        if (!q) {
          orphans++;
          return;
        }
        if (type === PUB) q.push(makeId(seg.seq, pos), seg.seq);
        else if (type === ENQ) {
          q.push(makeId(buf.readUInt32LE(pos + 16), buf.readUInt32LE(pos + 20)), seg.seq);
        } else if (type === DEL) {
          const d = dlv.get(q);
          forEachDelEntry(buf, pos, (bodySeq, bodyOff, recSeq) => {
            const id = makeId(bodySeq, bodyOff);
            if (q.remove(id) < 0) return;
            seg.addDep(recSeq);
            // Still there: it was enqueued again (a dead-letter cycle) before this DEL.
            if (d?.has(id) && !q.has(id)) d.delete(id);
          });
        } else if (type === DLV) {
          let d = dlv.get(q);
          forEachDelEntry(buf, pos, (bodySeq, bodyOff) => {
            const id = makeId(bodySeq, bodyOff);
            // A delivery of a message no longer in the queue (acked before a carried DLV).
            if (!q.has(id)) return;
            if (!d) dlv.set(q, (d = new Map()));
            d.set(id, seg.seq);
          });
        }
      });
      report.skippedBytes += scan.skippedBytes;
      report.skippedRecords += scan.skippedRecords;
      if (scan.skippedBytes > 0) {
        warn(
          `segment ${seg.path}: skipped ${scan.skippedRecords} damaged record(s), ${scan.skippedBytes} bytes`,
        );
      }
      if (seg.seq === seqs[seqs.length - 1] && scan.goodEnd < size) {
        // The newest segment's tail past the last good record can only be an unsynced write
        // torn by a crash: nobody was told it was stored. Cut it so it is not reported again.
        report.truncatedBytes = size - scan.goodEnd;
        fs.ftruncateSync(fd, scan.goodEnd);
        fs.fsyncSync(fd);
        seg.size = seg.written = scan.goodEnd;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  if (orphans > 0) warn(`${orphans} record(s) named an undeclared queue id and were ignored`);

  // Drop references to bodies that are not (or no longer) there, then count what is live.
  const bySlot = new Map<number, Segment>();
  for (const s of segs.values()) bySlot.set(s.slot, s);
  for (const [name, q] of queues) {
    const dangling: number[] = [];
    q.forEach((id, recSeq) => {
      const body = bySlot.get(idSlot(id));
      if (!body || !pubs.get(body.seq)?.has(idOffset(id))) {
        dangling.push(id);
        return;
      }
      body.live++;
      segs.get(recSeq)!.live++;
    });
    for (const id of dangling) q.remove(id);
    report.danglingRefs += dangling.length;
    if (q.size === 0) queues.delete(name);
    else report.messages += q.size;
  }
  if (report.danglingRefs > 0) warn(`${report.danglingRefs} queue entries pointed at missing messages`);
  // A DLV still flagging a queued message must outlive the segment of that message's body,
  // like a DEL (cleanup.ts carries it forward if its own segment dies first).
  const delivered = new Map<string, Set<number>>();
  for (const [name, q] of queues) {
    const d = dlv.get(q);
    if (!d) continue;
    const ids = new Set<number>();
    for (const [id, dlvSeq] of d) {
      if (!q.has(id)) continue;
      ids.add(id);
      segs.get(dlvSeq)!.addDep(bySlot.get(idSlot(id))!.seq);
    }
    if (ids.size > 0) delivered.set(name, ids);
  }
  // Deps on segments that are gone are satisfied.
  for (const s of segs.values()) {
    if (!s.deps) continue;
    for (const d of s.deps) if (!segs.has(d)) s.deps.delete(d);
  }
  report.queues = queues.size;
  report.ms = performance.now() - t0;
  return { segments: [...segs.values()], queues, delivered, report };
}
