import type { Message } from "../message.js";
import type { Binding, Destination, ExchangeType } from "./exchange-type.js";

/** Exact routing-key match. */
export class DirectExchange implements ExchangeType {
  private readonly byKey = new Map<string, Destination[]>();

  bind(b: Binding): void {
    const list = this.byKey.get(b.routingKey);
    if (list) list.push(b.destination);
    else this.byKey.set(b.routingKey, [b.destination]);
  }

  unbind(b: Binding): void {
    const list = this.byKey.get(b.routingKey);
    if (!list) return;
    const i = list.indexOf(b.destination);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byKey.delete(b.routingKey);
  }

  route(routingKey: string, _msg: Message, out: Destination[]): void {
    const list = this.byKey.get(routingKey);
    if (list) for (let i = 0; i < list.length; i++) out.push(list[i]!);
  }
}
