import { peekDeliveryMode } from "@warren/protocol";

/**
 * A published message as the broker keeps it: routing facts plus the raw property bytes and
 * body exactly as they arrived (usually ranges of the socket's read buffer), so delivery
 * forwards them untouched. One Message is shared by every queue it was routed to; `refs`
 * counts those queues so the store can forget it when the last one is done.
 */
export class Message {
  /** Store id, assigned when a store persists the message (0 = memory only). */
  id = 0;
  refs = 0;
  /** Lazily computed from rawProps. */
  private mode = -1;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly rawProps: Buffer,
    public body: Buffer,
  ) {}

  get bodySize(): number {
    return this.body.length;
  }

  /** delivery-mode 2. */
  get persistent(): boolean {
    if (this.mode < 0) this.mode = peekDeliveryMode(this.rawProps);
    return this.mode === 2;
  }
}
