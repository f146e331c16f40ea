import { Session } from "node:inspector";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

/** A full garbage collection, without requiring node --expose-gc on the command line. */
export function collectGarbage(): void {
  if (!gc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) gc = exposed;
    else {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
  }
  gc();
}

/** One in-process inspector session for releaseHeap, kept: disconnecting from within (or
 * near) the collection's reply deadlocks on the heap profiler agent's mutex (Node 20). */
let session: Session | null | undefined;

/**
 * V8's low-memory collection, then `done` (on a later turn): collections repeated until nothing
 * more is freed, then the heap's empty pages and the young generation given back to the kernel.
 * A plain full GC keeps them: the heap stayed at 54 MB with 18 MB live after a 3M-message
 * publish. Node exposes it only through the inspector protocol, so an in-process session (no
 * port is opened) posts `HeapProfiler.collectGarbage`, which calls `LowMemoryNotification`.
 * Falls back to a plain full GC where the inspector is missing. Slower than collectGarbage();
 * for idle-time clean-ups.
 */
export function releaseHeap(done: () => void): void {
  if (session === undefined) {
    try {
      session = new Session();
      session.connect();
    } catch {
      session = null;
    }
  }
  if (!session) {
    collectGarbage();
    setImmediate(done);
    return;
  }
  session.post("HeapProfiler.collectGarbage", () => setImmediate(done));
}
