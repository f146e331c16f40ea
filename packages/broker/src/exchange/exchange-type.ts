import type { FieldTable } from "@warren/protocol";
import type { Message } from "../message.js";

/** Something a binding can point at: a queue or (for exchange-to-exchange bindings) an exchange. */
export interface Destination {
  readonly kind: "queue" | "exchange";
  readonly name: string;
  /** Routing generation this destination was last collected in; dedupes without a Set. */
  routeMark: number;
}

/** A binding from an exchange to a destination. */
export interface Binding {
  readonly destination: Destination;
  readonly routingKey: string;
  readonly args: FieldTable;
  /** Identity of the binding within its exchange. */
  readonly key: string;
}

/**
 * The one interface every exchange type implements. `route` appends the destinations a
 * message goes to; it must not allocate per message on the common path.
 */
export interface ExchangeType {
  bind(b: Binding): void;
  unbind(b: Binding): void;
  route(routingKey: string, msg: Message, out: Destination[]): void;
}
