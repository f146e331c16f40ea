import { DirectExchange } from "./direct.js";
import type { ExchangeType } from "./exchange-type.js";
import { FanoutExchange } from "./fanout.js";
import { HeadersExchange } from "./headers.js";
import { TopicExchange } from "./topic.js";

/** Exchange types by the name clients declare them with. */
const registry = new Map<string, () => ExchangeType>([
  ["direct", () => new DirectExchange()],
  ["fanout", () => new FanoutExchange()],
  ["topic", () => new TopicExchange()],
  ["headers", () => new HeadersExchange()],
]);

export function createExchangeType(type: string): ExchangeType | undefined {
  return registry.get(type)?.();
}

/** Adds an exchange type (plugins, tests). */
export function registerExchangeType(name: string, make: () => ExchangeType): void {
  registry.set(name, make);
}
