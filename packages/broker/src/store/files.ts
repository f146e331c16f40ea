import fs from "node:fs";
import path from "node:path";

/** Segment files are named by their sequence number, zero-padded so ls sorts them. */
export const SEGMENT_SUFFIX = ".wseg";

/** Writes all of buf to fd at file position at (a positional write may write less). */
export function writeAll(fd: number, buf: Uint8Array, at: number): void {
  for (let done = 0; done < buf.length;) done += fs.writeSync(fd, buf, done, buf.length - done, at + done);
}

export function segmentPath(dir: string, seq: number): string {
  return path.join(dir, String(seq).padStart(10, "0") + SEGMENT_SUFFIX);
}

/** A closed segment's index (segment-index.ts): beside it, named by the same number. */
export const INDEX_SUFFIX = ".widx";

export function indexPath(dir: string, seq: number): string {
  return path.join(dir, String(seq).padStart(10, "0") + INDEX_SUFFIX);
}

/** Sequence numbers of the segment files in dir, ascending. */
export function listSegments(dir: string, suffix = SEGMENT_SUFFIX): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(suffix)) continue;
    const seq = Number(name.slice(0, -suffix.length));
    if (Number.isSafeInteger(seq) && seq > 0) out.push(seq);
  }
  return out.sort((a, b) => a - b);
}

/** Makes creations, renames and unlinks in dir durable (they live in the directory inode). */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function fsyncDir(dir: string, cb: (err: Error | null) => void): void {
  fs.open(dir, "r", (err, fd) => {
    if (err) return cb(err);
    fs.fsync(fd, (err2) => fs.close(fd, () => cb(err2)));
  });
}

/**
 * Replaces file via a synced temp file and a rename, so after a crash it holds the old or
 * the new contents; the caller fsyncs the directory to make the rename itself durable.
 */
export async function writeFileAndSync(file: string, data: string | Buffer): Promise<void> {
  const tmp = file + ".tmp";
  const fh = await fs.promises.open(tmp, "w");
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A killed broker its parent has not reaped yet is a zombie: it holds nothing.
    try {
      return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    } catch {
      return true;
    }
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes dir/LOCK for this process: created exclusively with our pid inside. A lock left by a
 * dead process (kill -9, power loss) is taken over; one held by a live process, including
 * this one, is refused.
 */
export function acquireLock(dir: string): string {
  const file = path.join(dir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, `${process.pid}\n`);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      return file;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let pid = Number.NaN;
    try {
      pid = Number.parseInt(fs.readFileSync(file, "utf8").trim(), 10);
    } catch {
      // Vanished between our open and read: just retry.
    }
    if (Number.isSafeInteger(pid) && pid > 0 && pidAlive(pid)) {
      throw new Error(
        `message store ${dir} is locked by running process ${pid} (${file}); ` +
          "stop that broker, or delete the file if that pid is not a broker",
      );
    }
    // Stale (or empty, from a crash between create and write): take it over.
    try {
      fs.unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  throw new Error(`message store ${dir}: could not take ${file} (another process is racing for it)`);
}

export function releaseLock(file: string): void {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, "utf8").trim(), 10);
    if (pid === process.pid) fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}
