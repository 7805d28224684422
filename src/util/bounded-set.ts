/**
 * A set that forgets its oldest members past a limit: the memory of recent ids (wraps this process
 * sent, subscriptions it closed) that must never grow with uptime. Insertion order is age.
 */
export class BoundedSet<T> {
  readonly #items = new Set<T>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  add(item: T): void {
    this.#items.add(item);
    if (this.#items.size > this.#limit) this.#items.delete(this.#items.values().next().value as T);
  }

  has(item: T): boolean {
    return this.#items.has(item);
  }

  clear(): void {
    this.#items.clear();
  }

  get size(): number {
    return this.#items.size;
  }
}
