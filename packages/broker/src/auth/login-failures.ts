import type { Logger } from "../logger.js";

/**
 * The log of failed logins: one line per failure with the peer's address, but at most one
 * line per peer per interval, so that a client hammering wrong passwords cannot flood the log.
 * The first failure after a quiet interval is logged at once, with the count of lines
 * suppressed since the previous one.
 */
export class LoginFailureLog {
  /** Per peer: when its last line was written and how many failures were not logged since. */
  private readonly peers = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
    /** Peers remembered at most; beyond it, the quiet ones are forgotten. */
    private readonly maxPeers = 10_000,
  ) {}

  /** A login from peer failed; reason says why (no such user, wrong password, ...). */
  failed(peer: string, user: string | undefined, mechanism: string, reason: string): void {
    const t = this.now();
    const seen = this.peers.get(peer);
    if (seen && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const more =
      seen && seen.suppressed > 0 ? ` (${seen.suppressed} similar lines from this peer suppressed)` : "";
    const who = user === undefined ? "" : ` for user '${user}'`;
    this.log.warn(`login failed${who} from ${peer} with mechanism ${mechanism}: ${reason}${more}`, {
      peer,
      ...(user === undefined ? {} : { user }),
      mechanism,
      reason,
      ...(seen && seen.suppressed > 0 ? { suppressed: seen.suppressed } : {}),
    });
    if (!seen && this.peers.size >= this.maxPeers) this.forgetQuiet(t);
    this.peers.set(peer, { at: t, suppressed: 0 });
  }

  /** Drops peers whose interval has passed; their next failure is logged anyway. */
  private forgetQuiet(t: number): void {
    for (const [peer, s] of this.peers) if (t - s.at >= this.intervalMs) this.peers.delete(peer);
  }
}
