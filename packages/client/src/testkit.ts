/*
 * @internal Small helpers shared by the client's tests (no test framework, no broker here).
 */

/** Resolves after ms. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls cond every 5 ms until it holds; rejects after ms. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await delay(5);
  }
}
