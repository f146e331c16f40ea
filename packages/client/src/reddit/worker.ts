/** A task for the Worker: a function that may return a promise. */
export type WorkerTask = () => unknown;

/**
 * reddit's background Worker, for Node. The seed's Worker is a thread that takes functions
 * from a queue.Queue and runs them one by one, and `join()` blocks until the queue is empty.
 * Node has no threads to spare for this and needs none: the analogue is a queue of tasks
 * that a single async loop drains in the background, one task at a time, awaiting each.
 * `do()` returns at once, as in the seed; `join()` resolves when every task given so far,
 * and every task those tasks added, has finished.
 *
 * Where the seed differs: its thread re-raises a task's exception and dies, so later tasks
 * never run and `join()` blocks forever. Here a failed task is passed to `onError` and the
 * worker goes on with the next one.
 */
export class Worker {
  private readonly tasks: WorkerTask[] = [];
  /** The drain loop is scheduled or running. */
  private running = false;
  /** A task is executing. */
  private busy = false;
  private readonly idle: (() => void)[] = [];

  /** @param onError receives what a task threw or rejected with. */
  constructor(private readonly onError: (err: Error) => void) {}

  /** Tasks queued or running. */
  get pending(): number {
    return this.tasks.length + (this.busy ? 1 : 0);
  }

  /** Queues fn(...args) to run after the tasks before it. */
  do<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    this.tasks.push(args.length === 0 ? (fn as WorkerTask) : () => fn(...args));
    if (!this.running) {
      this.running = true;
      // Start on a later turn: do() never runs the task inside the caller's stack.
      setImmediate(() => void this.drain());
    }
  }

  /** Resolves once no task is queued or running. */
  join(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private async drain(): Promise<void> {
    for (let task = this.tasks.shift(); task; task = this.tasks.shift()) {
      this.busy = true;
      try {
        await task();
      } catch (e) {
        this.report(e);
      }
      this.busy = false;
    }
    this.running = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private report(e: unknown): void {
    try {
      this.onError(e instanceof Error ? e : new Error(String(e)));
    } catch (thrown) {
      // A throwing error handler must not stop the worker; it is uncaught, as it would be
      // from an EventEmitter listener.
      process.nextTick(() => {
        throw thrown;
      });
    }
  }
}
