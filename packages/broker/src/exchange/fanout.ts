import type { Message } from "../message.js";
import type { Binding, Destination, ExchangeType } from "./exchange-type.js";

/** Every bound destination, whatever the routing key. */
export class FanoutExchange implements ExchangeType {
  private readonly dests: Destination[] = [];
  private readonly counts = new Map<Destination, number>();

  bind(b: Binding): void {
    const n = this.counts.get(b.destination) ?? 0;
    this.counts.set(b.destination, n + 1);
    if (n === 0) this.dests.push(b.destination);
  }

  unbind(b: Binding): void {
    const n = this.counts.get(b.destination) ?? 0;
    if (n <= 1) {
      this.counts.delete(b.destination);
      const i = this.dests.indexOf(b.destination);
      if (i >= 0) this.dests.splice(i, 1);
    } else this.counts.set(b.destination, n - 1);
  }

  route(_routingKey: string, _msg: Message, out: Destination[]): void {
    const d = this.dests;
    for (let i = 0; i < d.length; i++) out.push(d[i]!);
  }
}
