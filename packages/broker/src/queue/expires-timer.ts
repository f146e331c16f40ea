/** The longest delay setTimeout honours (longer ones fire at once). */
export const MAX_TIMER_MS = 0x7fffffff;

/**
 * A queue's x-expires clock: once armed, calls onExpire after ms unless cleared or re-armed.
 * Timers cannot wait longer than MAX_TIMER_MS, so long values (x-expires takes up to years)
 * wait in steps.
 */
export class ExpiresTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = 0;

  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
  ) {}

  /** (Re)starts the clock from now. */
  arm(): void {
    this.clear();
    this.at = Date.now() + this.ms;
    this.wait();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wait(): void {
    const left = this.at - Date.now();
    this.timer = setTimeout(
      () => (left > MAX_TIMER_MS ? this.wait() : this.onExpire()),
      Math.min(MAX_TIMER_MS, Math.max(0, left)),
    );
    this.timer.unref();
  }
}
