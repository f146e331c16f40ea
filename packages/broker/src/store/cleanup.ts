import fs from "node:fs";
import { alignedBuffer, wordView } from "./checksum.js";
import { fsyncDir, indexPath } from "./files.js";
import {
  DEL,
  DLV,
  forEachDelEntry,
  QDECL,
  recordQid,
  recordType,
  SEGMENT_HEADER,
  scanRecords,
} from "./record.js";
import type { Segment } from "./segment.js";

/** What the cleaner needs from the store. */
export interface CleanerHost {
  readonly dir: string;
  readonly segs: ReadonlyMap<number, Segment>;
  active(): Segment;
  /** seg still has records in memory, or a write or fsync on its descriptor under way. */
  busy(seg: Segment): boolean;
  /** Failed or closed: stop touching files. */
  stopped(): boolean;
  /** Close seg's descriptor and cached reads: it is about to be unlinked. */
  closeSegment(seg: Segment): void;
  /** The unlink is durable: forget seg. */
  dropSegment(seg: Segment): void;
  /** Queue a DEL entry for the next commit. */
  addDel(queue: string, bodySeq: number, bodyOff: number, recSeq: number): void;
  /** Queue a DLV entry for the next commit if queue still holds that message. */
  addDlv(queue: string, bodySeq: number, bodyOff: number): void;
  sync(cb: (err?: Error) => void): void;
  warn(msg: string): void;
}

/**
 * Deletes dead segments (live count 0) so disk use tracks the backlog, not the history.
 * Oldest first: a dead segment whose DEL records still cancel enqueues in a live older
 * segment, or whose DLV records still flag queued messages there as delivered, has those
 * records copied to the head first ("carried"); one that depends on a dead
 * older segment waits for that one to go. Dependencies only count as gone once their unlink
 * is durable (directory fsync), or a crash could bring back a segment whose cancellations
 * had already been deleted.
 */
export class SegmentCleaner {
  private readonly candidates = new Set<Segment>();
  private running: Promise<void> | undefined;
  deleted = 0;
  carried = 0;

  constructor(private readonly host: CleanerHost) {}

  /** seg's live count reached 0 (or it stopped being the active segment). */
  consider(seg: Segment): void {
    this.candidates.add(seg);
  }

  /** Starts a pass unless one is running; called after each commit. */
  kick(): void {
    if (this.running || this.candidates.size === 0 || this.host.stopped()) return;
    this.running = this.run()
      .catch((e: Error) => this.host.warn(`segment cleanup: ${e.message}`))
      .finally(() => {
        this.running = undefined;
      });
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    const h = this.host;
    for (;;) {
      const active = h.active();
      const doomed: Segment[] = [];
      for (const s of [...this.candidates].sort((a, b) => a.seq - b.seq)) {
        if (s.live > 0 || s === active || s.doomed) {
          this.candidates.delete(s);
          continue;
        }
        // Acks can empty a segment before the commit writing its tail: wait for that commit
        // (its completion kicks us again) rather than close the descriptor under it, or carry
        // DEL records forward from a file that does not hold them yet.
        if (s.carrying || h.busy(s)) continue;
        let blocked = false;
        let carry = false;
        for (const d of s.deps ?? []) {
          const ds = h.segs.get(d);
          if (!ds) continue;
          if (ds.doomed || (ds.live === 0 && ds !== active)) blocked = true;
          else carry = true;
        }
        if (carry) this.carry(s);
        else if (!blocked) {
          s.doomed = true;
          this.candidates.delete(s);
          doomed.push(s);
        }
      }
      if (doomed.length === 0 || h.stopped()) return;
      const gone = (e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      };
      for (const s of doomed) {
        h.closeSegment(s);
        // The index first: a segment left without one is scanned, an index without its
        // segment is ignored (and removed at the next open).
        await fs.promises.unlink(indexPath(h.dir, s.seq)).catch(gone);
        await fs.promises.unlink(s.path).catch(gone);
      }
      await new Promise<void>((resolve, reject) => fsyncDir(h.dir, (e) => (e ? reject(e) : resolve())));
      for (const s of doomed) {
        h.dropSegment(s);
        this.deleted++;
      }
    }
  }

  /**
   * Re-emits the DEL entries of s that still cancel records in existing segments, and the DLV
   * entries for messages still queued. A DLV's dependency is the segment of the body, which
   * lives as long as any queue holds the message, so it never keeps s alive once the message
   * is gone, and a carried DLV of a message acked meanwhile is dropped by the store.
   */
  private carry(s: Segment): void {
    const h = this.host;
    s.carrying = true;
    this.carried++;
    fs.readFile(s.path, (err, data) => {
      if (err || h.stopped()) {
        s.carrying = false;
        if (err) h.warn(`reading ${s.path} for cleanup: ${err.message}`);
        return;
      }
      let buf: Buffer = data;
      if (data.byteOffset % 4 !== 0) data.copy((buf = alignedBuffer(data.length)));
      const names = new Map<number, string>();
      scanRecords(buf, wordView(buf), SEGMENT_HEADER, buf.length & ~3, (pos) => {
        const type = recordType(buf, pos);
        if (type === QDECL) {
          names.set(recordQid(buf, pos), buf.toString("utf8", pos + 16, pos + 8 + buf.readUInt32LE(pos + 4)));
        } else if (type === DEL || type === DLV) {
          const name = names.get(recordQid(buf, pos));
          if (name === undefined) return;
          forEachDelEntry(buf, pos, (seq, off, recSeq) => {
            const r = h.segs.get(recSeq);
            if (!r || r === s || r.doomed) return;
            if (type === DEL) h.addDel(name, seq, off, recSeq);
            else h.addDlv(name, seq, off);
          });
        }
      });
      h.sync((e) => {
        s.carrying = false;
        if (e) return;
        s.deps = undefined;
        if (s.live === 0) this.candidates.add(s);
      });
    });
  }
}
