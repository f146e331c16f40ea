import { createRequire } from "node:module";

type Trim = (pad: number) => number;

/** undefined: not looked up yet; null: not available here. */
let trim: Trim | null | undefined;

/**
 * glibc's `malloc_trim(0)`, through the koffi FFI (an optional dependency; its npm package ships
 * prebuilt binaries, so nothing is compiled at install). It gives the kernel back every free page
 * of the allocator's heaps, not only the top of the main heap, which is all that glibc returns by
 * itself: after a deep queue drains, the freed message buffers sit below live allocations and
 * kept 80-160 MB resident for good. Ruby's GC does the same after each major collection.
 *
 * Returns false where there is no glibc (musl, macOS, Windows) or no koffi: nothing is trimmed
 * and nothing else changes. Costs a few ms per 100 MB of heap; call it when idle.
 */
export function trimMalloc(): boolean {
  if (trim === undefined) trim = loadTrim();
  if (!trim) return false;
  trim(0);
  return true;
}

function loadTrim(): Trim | null {
  if (process.platform !== "linux") return null;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header;
  if (!header?.glibcVersionRuntime) return null;
  try {
    const koffi = createRequire(import.meta.url)("koffi") as {
      load(path: string): { func(signature: string): Trim };
    };
    return koffi.load("libc.so.6").func("int malloc_trim(size_t pad)");
  } catch {
    return null;
  }
}
