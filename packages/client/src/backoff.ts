/** How a RecoveringConnection waits between attempts (milliseconds). */
export interface BackoffOptions {
  /** Ceiling of the first wait. Default 100. */
  initialDelay?: number;
  /** Largest ceiling. Default 30000. */
  maxDelay?: number;
  /** Growth of the ceiling per attempt. Default 2. */
  factor?: number;
  /**
   * "full" (default): a random wait between 0 and the ceiling, so that many clients cut off
   * together do not come back together; "none": the ceiling itself.
   */
  jitter?: "full" | "none";
}

/** The wait before retry number `attempt` (0 for the first retry): exponential, capped, jittered. */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  const ceiling = Math.min(
    o.maxDelay ?? 30_000,
    (o.initialDelay ?? 100) * (o.factor ?? 2) ** Math.min(attempt, 64),
  );
  return o.jitter === "none" ? ceiling : Math.random() * ceiling;
}
