import fs from "node:fs";
import path from "node:path";
import { alignedBuffer, wordView } from "./checksum.js";
import { INDEX_SUFFIX, indexPath, listSegments, segmentPath } from "./files.js";
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
import { OffsetList } from "./offset-list.js";
import { idSlot, makeId, Segment } from "./segment.js";
import { replayIndex, SegmentIndexBuilder } from "./segment-index.js";

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
  /** Segments replayed from their index file instead of being read (segment-index.ts). */
  indexed: number;
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

/**
 * Replays every segment in order: PUB and ENQ put a message id in a queue, DEL takes it out,
 * QDECL names the segment's queue ids. What is left are the ready messages per queue in
 * enqueue order, plus each segment's live count and DEL dependencies. A torn tail on the
 * newest segment is cut off so it is not reported again.
 */
export function recoverSegments(dir: string, warn: (msg: string) => void, writeIndexes = true): Recovered {
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
    indexed: 0,
    ms: 0,
  };
  let buf = alignedBuffer(1 << 20);
  let orphans = 0;

  const newest = seqs[seqs.length - 1];
  for (const seg of segs.values()) {
    const local = new Map<number, QueueIndex>();
    const offsets = new OffsetList();
    pubs.set(seg.seq, offsets);
    // Live counts are kept as replay goes: +2 for a PUB (record and body), +1 each for an ENQ's
    // segment and its body's, the same taken back by the DEL entry that cancels them.
    const pub = (qid: number, off: number): void => {
      report.records++;
      offsets.push(off);
      const q = local.get(qid);
      if (q) {
        q.push(makeId(seg.seq, off), 0);
        seg.live += 2;
      } else orphans++;
    };
    // One record (from the segment, or copied into its index), replayed.
    const record = (b: Buffer, pos: number): void => {
      const type = recordType(b, pos);
      if (type === PUB) return pub(recordQid(b, pos), pos);
      report.records++;
      const qid = recordQid(b, pos);
      if (type === QDECL) {
        const name = b.toString("utf8", pos + 16, pos + 8 + b.readUInt32LE(pos + 4));
        let q = queues.get(name);
        if (!q) queues.set(name, (q = new QueueIndex(name)));
        local.set(qid, q);
        return;
      }
      const q = local.get(qid);
      if (!q) {
        orphans++;
        return;
      }
      if (type === ENQ) {
        // Its PUB is earlier in the log (an earlier segment, or earlier in this one), so
        // whether the body is there is known now.
        const bodySeq = b.readUInt32LE(pos + 16);
        const bodyOff = b.readUInt32LE(pos + 20);
        const body = segs.get(bodySeq);
        if (!body || !pubs.get(bodySeq)?.has(bodyOff)) {
          report.danglingRefs++;
          return;
        }
        q.push(makeId(bodySeq, bodyOff), bodySeq === seg.seq ? 0 : seg.seq);
        body.live++;
        seg.live++;
      } else if (type === DEL) {
        const d = dlv.get(q);
        forEachDelEntry(b, pos, (bodySeq, bodyOff, recSeq) => {
          const id = makeId(bodySeq, bodyOff);
          const r = q.remove(id);
          if (r < 0) return;
          seg.addDep(recSeq);
          segs.get(bodySeq)!.live--;
          segs.get(r === 0 ? bodySeq : r)!.live--;
          // Still there: it was enqueued again (a dead-letter cycle) before this DEL.
          if (d?.has(id) && !q.has(id)) d.delete(id);
        });
      } else if (type === DLV) {
        // Same in a scan and in an index replay: the index copies DLV records whole.
        let d = dlv.get(q);
        forEachDelEntry(b, pos, (bodySeq, bodyOff) => {
          const id = makeId(bodySeq, bodyOff);
          // A delivery of a message no longer in the queue (acked before a carried DLV).
          if (!q.has(id)) return;
          if (!d) dlv.set(q, (d = new Map()));
          d.set(id, seg.seq);
        });
      }
    };
    // A closed segment with a sound index is replayed from it, without reading the segment.
    // The newest is always scanned: it may end in a write torn by a crash.
    const visitor = {
      pubs: (qid: number, offs: Int32Array) => {
        const q = local.get(qid);
        report.records += offs.length;
        offsets.pushRun(offs);
        if (!q) {
          orphans += offs.length;
          return;
        }
        q.pushOffsets(makeId(seg.seq, 0), offs);
        seg.live += 2 * offs.length;
      },
      record,
    };
    if (seg.seq !== newest && replayIndex(indexPath(dir, seg.seq), seg.seq, seg.size, visitor)) {
      report.indexed++;
      continue;
    }
    if (buf.length < seg.size) buf = alignedBuffer(seg.size);
    const words = wordView(buf);
    const index = new SegmentIndexBuilder();
    const fd = fs.openSync(seg.path, "r+");
    try {
      const size = readAll(fd, buf, seg.size);
      if (size < SEGMENT_HEADER || buf.toString("latin1", 0, 8) !== SEGMENT_MAGIC) {
        warn(`segment ${seg.path}: bad header, scanning anyway`);
      }
      const scan = scanRecords(buf, words, Math.min(SEGMENT_HEADER, size), size, (pos) => {
        index.add(buf, words, pos, pos);
        record(buf, pos);
      });
      report.skippedBytes += scan.skippedBytes;
      report.skippedRecords += scan.skippedRecords;
      if (scan.skippedBytes > 0) {
        warn(
          `segment ${seg.path}: skipped ${scan.skippedRecords} damaged record(s), ${scan.skippedBytes} bytes`,
        );
      }
      let torn = 0;
      if (seg.seq === newest && scan.goodEnd < size) {
        // The newest segment's tail past the last good record can only be an unsynced write
        // torn by a crash: nobody was told it was stored. Cut it so it is not reported again.
        torn = report.truncatedBytes = size - scan.goodEnd;
        fs.ftruncateSync(fd, scan.goodEnd);
        fs.fsyncSync(fd);
        seg.size = seg.written = scan.goodEnd;
      }
      // Every open starts a new segment, so this one is closed for good: index it for the
      // next open, unless damage was skipped (then the next open scans and warns again).
      if (scan.skippedBytes === torn && writeIndexes) {
        try {
          index.write(indexPath(dir, seg.seq), seg.seq, seg.size);
        } catch (e) {
          warn(`cannot write the index of ${seg.path}: ${(e as Error).message}`);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  // Indexes of segments that are gone (a crash between the two unlinks), and temp files.
  for (const name of fs.readdirSync(dir)) {
    const seq = Number(name.slice(0, -INDEX_SUFFIX.length));
    if (name.endsWith(`${INDEX_SUFFIX}.tmp`) || (name.endsWith(INDEX_SUFFIX) && !segs.has(seq))) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
  if (orphans > 0) warn(`${orphans} record(s) named an undeclared queue id and were ignored`);

  for (const [name, q] of queues) {
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
      segs.get(dlvSeq)!.addDep(slots.get(idSlot(id))!);
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
