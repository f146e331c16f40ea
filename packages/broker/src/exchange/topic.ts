import type { Message } from "../message.js";
import type { Binding, Destination, ExchangeType } from "./exchange-type.js";

class TrieNode {
  readonly children = new Map<string, TrieNode>();
  /** Destinations whose pattern ends here, with multiplicity. */
  readonly dests: Destination[] = [];
}

const CACHE_LIMIT = 4096;

/** RabbitMQ treats "" as no words at all, and "a..b" as three words, one empty. */
const words = (key: string): string[] => (key === "" ? [] : key.split("."));

/**
 * Topic routing: patterns of dot-separated words where `*` matches exactly one word and `#`
 * zero or more. Patterns live in a trie; results are cached per routing key (the cache is
 * dropped whenever a binding changes), so steady-state routing is one Map lookup.
 */
export class TopicExchange implements ExchangeType {
  private readonly root = new TrieNode();
  private cache = new Map<string, Destination[]>();

  bind(b: Binding): void {
    let node = this.root;
    for (const w of words(b.routingKey)) {
      let next = node.children.get(w);
      if (!next) node.children.set(w, (next = new TrieNode()));
      node = next;
    }
    node.dests.push(b.destination);
    this.cache.clear();
  }

  unbind(b: Binding): void {
    const ws = words(b.routingKey);
    const path: TrieNode[] = [this.root];
    let node = this.root;
    for (const w of ws) {
      const next = node.children.get(w);
      if (!next) return;
      path.push(next);
      node = next;
    }
    const i = node.dests.indexOf(b.destination);
    if (i >= 0) node.dests.splice(i, 1);
    for (let d = ws.length; d > 0; d--) {
      const n = path[d]!;
      if (n.dests.length > 0 || n.children.size > 0) break;
      path[d - 1]!.children.delete(ws[d - 1]!);
    }
    this.cache.clear();
  }

  route(routingKey: string, _msg: Message, out: Destination[]): void {
    let hit = this.cache.get(routingKey);
    if (!hit) {
      hit = [];
      const seen = new Set<Destination>();
      this.match(this.root, words(routingKey), 0, hit, seen);
      if (this.cache.size >= CACHE_LIMIT) this.cache = new Map();
      this.cache.set(routingKey, hit);
    }
    for (let i = 0; i < hit.length; i++) out.push(hit[i]!);
  }

  private collect(node: TrieNode, hit: Destination[], seen: Set<Destination>): void {
    for (const d of node.dests) {
      if (!seen.has(d)) {
        seen.add(d);
        hit.push(d);
      }
    }
  }

  private match(
    node: TrieNode,
    words: string[],
    i: number,
    hit: Destination[],
    seen: Set<Destination>,
  ): void {
    const hash = node.children.get("#");
    if (hash) {
      // '#' matches zero words, or eats one more word and stays.
      for (let j = i; j <= words.length; j++) this.match(hash, words, j, hit, seen);
    }
    if (i === words.length) {
      this.collect(node, hit, seen);
      return;
    }
    const word = words[i]!;
    const exact = node.children.get(word);
    if (exact) this.match(exact, words, i + 1, hit, seen);
    const star = node.children.get("*");
    if (star) this.match(star, words, i + 1, hit, seen);
  }
}
