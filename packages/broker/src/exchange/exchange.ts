import type { FieldTable } from "@warren/protocol";
import type { Binding, Destination, ExchangeType } from "./exchange-type.js";

/** An exchange: its declared attributes, its bindings and the type's routing index. */
export class Exchange implements Destination {
  readonly kind = "exchange" as const;
  routeMark = 0;
  readonly bindings = new Map<string, Binding>();
  /** Number of bindings that have this exchange as their destination. */
  inbound = 0;
  /** The policy in effect (its name), if any. */
  policy: string | undefined;
  /**
   * Where unroutable messages go: the alternate-exchange argument, else a policy's (resolved
   * when either changes, so routing reads one field).
   */
  alternate: string | undefined;

  constructor(
    readonly name: string,
    readonly type: string,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: FieldTable,
    readonly router: ExchangeType,
  ) {
    const ae = args["alternate-exchange"];
    this.alternate = typeof ae === "string" ? ae : undefined;
  }

  static bindingKey(destination: Destination, routingKey: string, args: FieldTable): string {
    const a =
      Object.keys(args).length === 0
        ? ""
        : JSON.stringify(args, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
    return `${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${a}`;
  }

  /** Adds a binding; false if an identical one exists. */
  bind(destination: Destination, routingKey: string, args: FieldTable): Binding | undefined {
    const key = Exchange.bindingKey(destination, routingKey, args);
    if (this.bindings.has(key)) return undefined;
    const b: Binding = { destination, routingKey, args, key };
    this.bindings.set(key, b);
    this.router.bind(b);
    return b;
  }

  unbind(b: Binding): void {
    if (!this.bindings.delete(b.key)) return;
    this.router.unbind(b);
  }
}
