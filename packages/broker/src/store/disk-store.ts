import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Message } from "../message.js";
import { SegmentCleaner } from "./cleanup.js";
import type { DurableStore, StoreStats } from "./durable-store.js";
import { acquireLock, fsyncDir, fsyncDirSync, releaseLock, segmentPath, writeFileAndSync } from "./files.js";
import { MessageDecoder } from "./message-decoder.js";
import { QueueIndex } from "./queue-index.js";
import {
  PUB,
  REC_HEADER,
  RecordWriter,
  recordType,
  recordValid,
  SEGMENT_HEADER,
  SEGMENT_MAGIC,
} from "./record.js";
import { type RecoveryReport, recoverSegments } from "./recovery.js";
import { idOffset, idSlot, MAX_SEGMENT_SIZE, makeId, Segment, slotOf } from "./segment.js";
import { SegmentIndexer } from "./segment-indexer.js";
import { RecordAt, SegmentReader } from "./segment-reader.js";
import { TailFile } from "./tail-file.js";

export interface DiskStoreOptions {
  /** A segment is closed once the next record would take it past this. Default 32 MiB. */
  segmentSize?: number;
  /** Bytes read at once by load(), so paging a queue in order costs few syscalls. Default 128 KiB. */
  readAhead?: number;
  /** Descriptors kept open on older segments for load(). Default 64. */
  maxOpenFiles?: number;
  /** Damaged records skipped at recovery, cleanup trouble. Default console.warn. */
  onWarning?: (msg: string) => void;
  /** Called once when a write or fsync fails; the store then stops accepting. */
  onError?: (err: Error) => void;
  /**
   * Write without fdatasync: for the transient spool (open-spool.ts), whose files are wiped at
   * every start, so nothing there needs to reach stable storage.
   */
  noSync?: boolean;
}

type SyncCallback = (err?: Error) => void;

/** A run of records for one segment inside a write buffer. end < 0: still growing. */
interface Chunk {
  seg: Segment;
  fileOff: number;
  start: number;
  end: number;
}

interface Batch {
  w: RecordWriter;
  chunks: Chunk[];
  cbs: SyncCallback[];
  defs: string | undefined;
  dir: boolean;
  /** Only DLV records (and their QDECLs): written, fdatasync'd with the next commit. */
  lazy: boolean;
  /** A segment a lazy commit left unsynced, synced by this one. */
  extra: Segment | undefined;
}

const WRITE_BUFFER = 1 << 20;
const DEL_MAX_ENTRIES = 8192;
const REDECLARE = 1 << 20;
const DEFINITIONS = "definitions.json";
/** Queue tail files (openTail): scratch, wiped at open. */
const TAILS = "tails";

/**
 * Append-only segment log with group commit; see docs/storage.md for the design and the
 * record format in record.ts. Everything written during one event-loop turn (and while the
 * previous commit's fdatasync runs) goes out as one write + one fdatasync per touched file.
 */
export class DiskStore implements DurableStore {
  readonly durable = true;
  readonly recovery: RecoveryReport;
  private readonly segs = new Map<number, Segment>();
  private readonly bySlot = new Map<number, Segment>();
  private active: Segment;
  private readonly queues: Map<string, QueueIndex>;
  /** Writer-side queue ids; each segment declares the ones it uses (QDECL) first. */
  private readonly qids = new Map<string, { qid: number; declSeq: number; declOff: number }>();
  private nextQid = 1;
  private w = new RecordWriter(WRITE_BUFFER);
  private spare = new RecordWriter(WRITE_BUFFER);
  private chunks: Chunk[];
  private cbs: SyncCallback[] = [];
  /** Removals are written as one DEL record per queue per commit: flat (seq, off, recSeq). */
  private readonly pendingDels = new Map<string, number[]>();
  /** Deliveries, one DLV record per queue per commit: flat (bodySeq, bodyOff). */
  private readonly pendingDlvs = new Map<string, number[]>();
  /** The last queue delivered from and its pending list: consumers drain one queue at a time. */
  private dlvQueue = "";
  private dlvList: number[] | undefined;
  /** The segment a lazy (DLV-only) commit wrote without fdatasync; the next commit syncs it. */
  private unsynced: Segment | undefined;
  /** What recovery found delivered and still queued, until the broker asks (recoveredDeliveries). */
  private recoveredDlv: Map<string, Set<number>> | undefined;
  private pendingDefs: string | undefined;
  private dirDirty = false;
  private inflight: Batch | undefined;
  private scheduled = false;
  private readonly cleaner: SegmentCleaner;
  private closing: Promise<void> | undefined;
  private closed = false;
  /** Tail files given out (openTail), closed with the store. */
  private readonly tails = new Set<TailFile>();
  /** Segment indexes for recovery (none for the spool, which never recovers). */
  private readonly indexer: SegmentIndexer | undefined;
  private err: Error | undefined;
  private readonly reader: SegmentReader;
  /** load()'s lookup result and record decoding, reused by every load. */
  private readonly at = new RecordAt();
  private readonly decoder = new MessageDecoder();
  private readonly segmentSize: number;
  private readonly warn: (msg: string) => void;
  private readonly noSync: boolean;
  private readonly onError: ((err: Error) => void) | undefined;
  private readonly counters = {
    batches: 0,
    fsyncs: 0,
    bytesWritten: 0,
    published: 0,
    removed: 0,
  };
  private readonly flushNow = () => this.flush();
  /** Records of seg not yet in its file, or the commit writing or syncing them in flight. */
  private readonly busy = (seg: Segment): boolean =>
    seg.written < seg.size ||
    seg === this.unsynced ||
    seg === this.inflight?.extra ||
    (this.inflight?.chunks.some((c) => c.seg === seg) ?? false);

  /** Creates dir if needed, takes dir/LOCK, and recovers what the segments hold. */
  static async open(dir: string, opts: DiskStoreOptions = {}): Promise<DiskStore> {
    if (os.endianness() !== "LE") throw new Error("DiskStore needs a little-endian host");
    await fs.promises.mkdir(dir, { recursive: true });
    const lock = acquireLock(dir);
    try {
      return new DiskStore(dir, lock, opts);
    } catch (e) {
      releaseLock(lock);
      throw e;
    }
  }

  private constructor(
    readonly dir: string,
    private readonly lockFile: string,
    opts: DiskStoreOptions,
  ) {
    this.segmentSize = Math.max(4096, Math.min(opts.segmentSize ?? 32 << 20, MAX_SEGMENT_SIZE));
    this.reader = new SegmentReader(
      Math.max(4096, opts.readAhead ?? 128 << 10),
      Math.max(1, opts.maxOpenFiles ?? 64),
      this.busy,
    );
    this.warn = opts.onWarning ?? ((m) => console.warn(`warren store: ${m}`));
    this.onError = opts.onError;
    this.noSync = opts.noSync === true;
    this.cleaner = new SegmentCleaner({
      dir,
      segs: this.segs,
      active: () => this.active,
      busy: this.busy,
      stopped: () => this.err !== undefined || this.closed,
      closeSegment: (seg) => this.reader.forget(seg),
      dropSegment: (seg) => {
        this.segs.delete(seg.seq);
        this.bySlot.delete(seg.slot);
      },
      addDel: (queue, seq, off, recSeq) => this.pendingDel(queue).push(seq, off, recSeq),
      addDlv: (queue, seq, off) => {
        if (this.queues.get(queue)?.has(makeId(seq, off))) this.delivered(queue, makeId(seq, off));
      },
      sync: (cb) => this.sync(cb),
      warn: this.warn,
    });
    fs.rmSync(path.join(dir, TAILS), { recursive: true, force: true });
    const r = recoverSegments(dir, this.warn, !this.noSync);
    if (!this.noSync) this.indexer = new SegmentIndexer(dir, this.warn);
    this.recovery = r.report;
    this.queues = r.queues;
    this.recoveredDlv = r.delivered;
    for (const s of r.segments) {
      this.segs.set(s.seq, s);
      this.bySlot.set(s.slot, s);
      if (s.live === 0) this.cleaner.consider(s);
    }
    // Always a fresh segment: the old newest one may end in a cut-off torn tail.
    const seq = (r.segments.at(-1)?.seq ?? 0) + 1;
    try {
      this.active = this.createSegment(seq);
      fs.fdatasyncSync(this.active.fd);
      fsyncDirSync(dir);
    } catch (e) {
      // Disk full (or read-only): still serve what was recovered, accept nothing new. The
      // placeholder segment has no file and is never written (every write checks err).
      this.err = e as Error;
      this.warn(`cannot start a new segment, store is read-only: ${this.err.message}`);
      this.active = new Segment(seq, segmentPath(dir, seq), SEGMENT_HEADER);
    }
    this.chunks = [{ seg: this.active, fileOff: this.active.size, start: 0, end: -1 }];
    this.cleaner.kick();
  }

  get error(): Error | undefined {
    return this.err;
  }

  enqueue(queue: string, msg: Message): void {
    if (this.err || this.closed) return;
    try {
      let q = this.queues.get(queue);
      if (!q) this.queues.set(queue, (q = new QueueIndex(queue)));
      const id = msg.id;
      const body = id > 0 ? this.bySlot.get(idSlot(id)) : undefined;
      if (body && !body.doomed && idOffset(id) < body.size) {
        // Already stored (fanout to another queue, or a recovered message put back in its
        // queue): one small ENQ record, the body stays where it is.
        if (q.has(id)) return;
        const qid = this.prepare(REC_HEADER + 16, queue);
        this.appended(this.w.writeEnq(qid, body.seq, idOffset(id)));
        q.push(id, this.active.seq === body.seq ? 0 : this.active.seq);
        body.live++;
        this.active.live++;
      } else {
        const ex = msg.exchange;
        const rk = msg.routingKey;
        const est = REC_HEADER + 16 + 3 * (ex.length + rk.length) + msg.rawProps.length + msg.body.length;
        const qid = this.prepare(est, queue);
        const off = this.appendedPub(this.w.writePub(qid, ex, rk, msg.rawProps, msg.body), qid);
        msg.id = makeId(this.active.seq, off);
        q.push(msg.id, 0);
        this.active.live += 2;
        this.counters.published++;
      }
    } catch (e) {
      this.fail(e as Error);
    }
    this.schedule();
  }

  remove(queue: string, msg: Message): void {
    if (this.err || this.closed) return;
    const q = this.queues.get(queue);
    if (!q || msg.id <= 0) return;
    this.dropId(queue, q, msg.id);
    this.schedule();
  }

  removeId(queue: string, id: number): void {
    if (this.err || this.closed) return;
    const q = this.queues.get(queue);
    if (!q || id <= 0) return;
    this.dropId(queue, q, id);
    this.schedule();
  }

  /**
   * Queue delivered message id to a consumer that must ack it: recorded (a DLV entry, a few
   * bytes) with the next commit, never a commit of its own, so that a recovery after a crash
   * flags it redelivered. A delivery the crash beats to the file comes back unflagged, as in
   * RabbitMQ; see docs/storage.md "Deliveries".
   */
  delivered(queue: string, id: number): void {
    if (this.err || this.closed || id <= 0) return;
    let list = this.dlvList;
    if (queue !== this.dlvQueue || list === undefined) {
      list = this.pendingDlvs.get(queue);
      if (!list) this.pendingDlvs.set(queue, (list = []));
      this.dlvQueue = queue;
      this.dlvList = list;
    }
    const body = this.bySlot.get(idSlot(id));
    if (!body) return;
    list.push(body.seq, idOffset(id));
    this.schedule();
  }

  /**
   * Per queue, the recovered ids that had been delivered before the restart (and not acked):
   * those go out with redelivered=true. Handed over once; the store keeps no copy.
   */
  recoveredDeliveries(): Map<string, Set<number>> {
    const d = this.recoveredDlv ?? new Map<string, Set<number>>();
    this.recoveredDlv = undefined;
    return d;
  }

  dropQueue(queue: string): void {
    if (this.err || this.closed) return;
    const q = this.queues.get(queue);
    if (!q) return;
    for (const id of q.toIds()) this.dropId(queue, q, id);
    this.queues.delete(queue);
    this.schedule();
  }

  sync(cb: SyncCallback): void {
    if (this.err || this.closed) {
      const e = this.err ?? new Error("message store is closed");
      setImmediate(() => cb(e));
      return;
    }
    this.cbs.push(cb);
    this.schedule();
  }

  load(id: number): Message {
    const seg = this.bySlot.get(idSlot(id));
    const off = idOffset(id);
    if (!seg || seg.doomed || off < SEGMENT_HEADER || off >= seg.size) {
      throw new Error(`message store: no message with id ${id}`);
    }
    // Not yet written (or being written): the write buffers hold it.
    const at = this.at;
    if (
      !inMemory(this.w, this.chunks, seg, off, at) &&
      !(this.inflight && inMemory(this.inflight.w, this.inflight.chunks, seg, off, at))
    ) {
      this.reader.read(seg, off, at);
    }
    const { buf, pos } = at;
    if (!recordValid(buf, at.words, pos, at.limit) || recordType(buf, pos) !== PUB) {
      throw new Error(`message store: message ${id} is damaged on disk`);
    }
    // The read buffer is reused by the next load: the decoder copies what the message keeps.
    return this.decoder.decode(buf, pos, id);
  }

  recoverIds(): Map<string, Float64Array> {
    const out = new Map<string, Float64Array>();
    for (const [name, q] of this.queues) if (q.size > 0) out.set(name, q.toIds());
    return out;
  }

  forEachRecoveredRun(fn: (queue: string, ids: Float64Array) => void): void {
    for (const [name, q] of this.queues) q.forEachRun((ids) => fn(name, ids));
  }

  recover(): Map<string, Message[]> {
    const out = new Map<string, Message[]>();
    const shared = new Map<number, Message>();
    for (const [name, ids] of this.recoverIds()) {
      out.set(
        name,
        Array.from(ids, (id) => {
          let m = shared.get(id);
          if (!m) shared.set(id, (m = this.load(id)));
          return m;
        }),
      );
    }
    return out;
  }

  openTail(blockEntries?: number): TailFile {
    const file = path.join(this.dir, TAILS, String(this.tails.size + 1));
    const t = new TailFile(file, this.warn, undefined, blockEntries);
    this.tails.add(t);
    return t;
  }

  saveDefinitions(json: string): void {
    if (this.err || this.closed) return;
    this.pendingDefs = json;
    this.schedule();
  }

  loadDefinitions(): string | undefined {
    const latest = this.pendingDefs ?? this.inflight?.defs;
    if (latest !== undefined) return latest;
    try {
      return fs.readFileSync(path.join(this.dir, DEFINITIONS), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async freeBytes(): Promise<number> {
    const s = await fs.promises.statfs(this.dir);
    return s.bavail * s.bsize;
  }

  stats(): StoreStats {
    let live = 0;
    let bytes = this.segs.size * 200;
    for (const q of this.queues.values()) {
      live += q.size;
      bytes += q.bytes + 100 + 2 * q.name.length;
    }
    return {
      ...this.counters,
      segments: this.segs.size,
      segmentsDeleted: this.cleaner.deleted,
      carried: this.cleaner.carried,
      liveMessages: live,
      indexBytes: bytes,
    };
  }

  /** Flushes and syncs what is pending, waits for segment cleanup, releases the lock. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.err) await new Promise<void>((resolve) => this.sync(() => resolve()));
      this.closed = true;
      for (const t of this.tails) t.clear();
      await this.cleaner.idle();
      for (const s of this.segs.values()) {
        if (s.fd >= 0) fs.closeSync(s.fd);
        s.fd = -1;
      }
      releaseLock(this.lockFile);
    })();
    return this.closing;
  }

  // ---- writing ----

  private createSegment(seq: number): Segment {
    const p = segmentPath(this.dir, seq);
    const clash = this.bySlot.get(slotOf(seq));
    if (clash) throw new Error(`segment ${seq} would reuse the id slot of live segment ${clash.seq}`);
    const fd = fs.openSync(p, "wx+");
    const header = Buffer.alloc(SEGMENT_HEADER);
    header.write(SEGMENT_MAGIC, 0, "latin1");
    header.writeUInt32LE(seq, 8);
    try {
      if (fs.writeSync(fd, header, 0, SEGMENT_HEADER, 0) !== SEGMENT_HEADER)
        throw new Error(`short write to ${p}`);
    } catch (e) {
      // Disk full: leave no half-made segment behind.
      fs.closeSync(fd);
      fs.rmSync(p, { force: true });
      throw e;
    }
    const seg = new Segment(seq, p, SEGMENT_HEADER);
    seg.fd = fd;
    this.segs.set(seq, seg);
    this.bySlot.set(seg.slot, seg);
    return seg;
  }

  /** Rolls to a new segment if `bytes` more would not fit; declares queue; returns its qid. */
  private prepare(bytes: number, queue: string): number {
    let e = this.qids.get(queue);
    const a = this.active;
    // Declarations are repeated every REDECLARE bytes so a damaged one orphans little.
    const fresh = e !== undefined && e.declSeq === a.seq && a.size - e.declOff < REDECLARE;
    const decl = fresh ? 0 : REC_HEADER + 12 + 3 * queue.length;
    if (a.size > SEGMENT_HEADER && a.size + bytes + decl > this.segmentSize) this.roll();
    if (!e) this.qids.set(queue, (e = { qid: this.nextQid++, declSeq: 0, declOff: 0 }));
    if (e.declSeq !== this.active.seq || this.active.size - e.declOff >= REDECLARE) {
      e.declOff = this.appended(this.w.writeQdecl(e.qid, queue));
      e.declSeq = this.active.seq;
    }
    return e.qid;
  }

  /**
   * Accounts for the record (not a PUB) just written at pos; returns its offset in the active
   * segment.
   */
  private appended(pos: number): number {
    const off = this.active.size;
    const size = this.w.len - pos;
    this.indexer?.addRecord(this.w.words, pos, size);
    this.active.size += size;
    return off;
  }

  /** appended() for a PUB of queue qid: the index needs only qid and the offset. */
  private appendedPub(pos: number, qid: number): number {
    const off = this.active.size;
    this.indexer?.addPub(qid, off);
    this.active.size += this.w.len - pos;
    return off;
  }

  private roll(): void {
    const old = this.active;
    const seg = this.createSegment(old.seq + 1);
    this.chunks[this.chunks.length - 1]!.end = this.w.len;
    this.chunks.push({ seg, fileOff: seg.size, start: this.w.len, end: -1 });
    this.active = seg;
    this.dirDirty = true;
    this.indexer?.rolled(old);
    this.reader.release(old);
    if (old.live === 0) this.cleaner.consider(old);
    for (const name of this.qids.keys()) {
      if (!this.queues.has(name) && !this.pendingDels.has(name) && !this.pendingDlvs.has(name)) {
        this.qids.delete(name);
      }
    }
  }

  private dropId(queue: string, q: QueueIndex, id: number): void {
    const r = q.remove(id);
    if (r < 0) return;
    const body = this.bySlot.get(idSlot(id))!;
    const rec = r === 0 ? body.seq : r;
    this.pendingDel(queue).push(body.seq, idOffset(id), rec);
    this.release(body);
    this.release(this.segs.get(rec)!);
    this.counters.removed++;
  }

  private pendingDel(queue: string): number[] {
    let list = this.pendingDels.get(queue);
    if (!list) this.pendingDels.set(queue, (list = []));
    return list;
  }

  private release(seg: Segment): void {
    if (--seg.live === 0 && seg !== this.active) this.cleaner.consider(seg);
  }

  /**
   * Writes the pending DLV then DEL records (deliveries first: a message delivered and acked in
   * one commit must not look delivered-after-ack at recovery). Both depend on the segments
   * their entries point into (recSeq for DEL, the body's segment for DLV), see cleanup.ts.
   */
  private serializeEntries(): void {
    this.serialize(this.pendingDlvs, 2, (qid, list, i, to) => this.w.writeDlv(qid, list, i, to));
    this.dlvList = undefined;
    this.serialize(this.pendingDels, 3, (qid, list, i, to) => this.w.writeDel(qid, list, i, to));
  }

  private serialize(
    pending: Map<string, number[]>,
    stride: number,
    write: (qid: number, list: number[], from: number, to: number) => number,
  ): void {
    for (const [name, list] of pending) {
      for (let i = 0; i < list.length; i += stride * DEL_MAX_ENTRIES) {
        const to = Math.min(list.length, i + stride * DEL_MAX_ENTRIES);
        const qid = this.prepare(REC_HEADER + 12 + 5 * (to - i), name);
        this.appended(write(qid, list, i, to));
        let prev = -1;
        // The segment each entry depends on: a DEL's recSeq (last), a DLV's bodySeq (first).
        for (let k = i + (stride === 3 ? 2 : 0); k < to; k += stride) {
          const r = list[k]!;
          if (r !== prev && r !== this.active.seq && this.segs.has(r)) this.active.addDep(r);
          prev = r;
        }
      }
    }
    pending.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.inflight || this.err) return;
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inflight || this.err) return;
    const strong = this.w.len > 0 || this.pendingDels.size > 0;
    try {
      this.serializeEntries();
    } catch (e) {
      return this.fail(e as Error);
    }
    const defs = this.pendingDefs;
    if (this.w.len === 0 && this.cbs.length === 0 && defs === undefined && !this.dirDirty) return;
    // Close the open chunk only now: load() looks records up by chunk end.
    this.chunks[this.chunks.length - 1]!.end = this.w.len;
    const chunks = this.chunks.filter((c) => c.end > c.start);
    const b: Batch = {
      w: this.w,
      chunks,
      cbs: this.cbs,
      defs,
      dir: this.dirDirty || defs !== undefined,
      // Deliveries alone need no fdatasync: the bytes reach the page cache (a kill -9 keeps
      // them) and the next commit syncs them (an OS crash may lose them: unflagged, as if the
      // delivery had not been recorded yet).
      lazy: !strong && this.cbs.length === 0 && defs === undefined && !this.dirDirty,
      extra: undefined,
    };
    this.inflight = b;
    this.w = this.spare;
    this.w.reset(WRITE_BUFFER);
    this.chunks = [{ seg: this.active, fileOff: this.active.size, start: 0, end: -1 }];
    this.cbs = [];
    this.pendingDefs = undefined;
    this.dirDirty = false;
    let i = 0;
    const next = (err: Error | null): void => {
      if (err) return this.fail(err, b);
      const c = b.chunks[i++];
      if (c) this.writeChunk(c, b.w.buf, next);
      else this.syncBatch(b);
    };
    next(null);
  }

  private writeChunk(c: Chunk, buf: Buffer, cb: (err: Error | null) => void): void {
    let pos = c.start;
    const step = (err: Error | null, n: number): void => {
      if (err) return cb(err);
      if (n === 0) return cb(new Error(`short write to ${c.seg.path}`));
      pos += n;
      c.seg.written = c.fileOff + (pos - c.start);
      this.counters.bytesWritten += n;
      if (pos < c.end) fs.write(c.seg.fd, buf, pos, c.end - pos, c.seg.written, step);
      else cb(null);
    };
    fs.write(c.seg.fd, buf, pos, c.end - pos, c.fileOff, step);
  }

  private syncBatch(b: Batch): void {
    if (this.noSync) return this.complete(b);
    if (b.lazy) {
      // A lazy commit never rolls (a new file sets dirDirty), so it wrote to one segment.
      this.unsynced = b.chunks[0]?.seg;
      return this.complete(b);
    }
    const files = new Set(b.chunks.map((c) => c.seg));
    // busy() kept it open and undeleted until now.
    b.extra = this.unsynced;
    this.unsynced = undefined;
    if (b.extra !== undefined && b.extra.fd >= 0) files.add(b.extra);
    let pending = files.size + (b.defs !== undefined ? 1 : 0);
    let failed = false;
    const filesDone = (): void => {
      if (b.dir) fsyncDir(this.dir, (err) => (err ? this.fail(err, b) : this.complete(b)));
      else this.complete(b);
    };
    const done = (err: Error | null): void => {
      if (failed) return;
      if (err) {
        failed = true;
        return this.fail(err, b);
      }
      if (--pending === 0) filesDone();
    };
    if (pending === 0) return filesDone();
    for (const seg of files) {
      this.counters.fsyncs++;
      fs.fdatasync(seg.fd, done);
    }
    // The batch's directory fsync (b.dir) then makes the rename durable.
    if (b.defs !== undefined)
      writeFileAndSync(path.join(this.dir, DEFINITIONS), b.defs).then(() => done(null), done);
  }

  private complete(b: Batch): void {
    this.inflight = undefined;
    this.spare = b.w;
    this.counters.batches++;
    if (
      this.w.len > 0 ||
      this.cbs.length > 0 ||
      this.pendingDels.size > 0 ||
      this.pendingDlvs.size > 0 ||
      this.pendingDefs !== undefined
    ) {
      this.schedule();
    }
    for (const cb of b.cbs) cb();
    if (!this.err) this.indexer?.flush(this.busy);
    this.cleaner.kick();
  }

  /** Stops the store for good; every waiting sync gets the error. Synced data stays readable. */
  private fail(err: Error, b?: Batch): void {
    if (this.err) return;
    this.err = err;
    // Keep the batch (and the pending buffer) so load() still finds their records.
    if (b) this.inflight = b;
    const cbs = [...(b?.cbs ?? []), ...this.cbs];
    this.cbs = [];
    this.warn(`write failed, store stopped accepting messages: ${err.message}`);
    this.onError?.(err);
    setImmediate(() => {
      for (const cb of cbs) cb(err);
    });
  }

  // ---- reading ----
}

/** Finds the record at off of seg in a write buffer (not yet written, or being written). */
function inMemory(w: RecordWriter, chunks: Chunk[], seg: Segment, off: number, at: RecordAt): boolean {
  for (const c of chunks) {
    if (c.seg !== seg || off < c.fileOff) continue;
    const end = c.end < 0 ? w.len : c.end;
    const p = c.start + (off - c.fileOff);
    if (p < end) {
      at.set(w.buf, w.words, p, end);
      return true;
    }
  }
  return false;
}
