/**
 * A map keyed by agent index, stored as an array. Agent indexes count up from 0 (one per agent
 * created in the home), so a daemon's per-agent tables are dense: a slot of 8 bytes per agent
 * instead of a Map entry's ~35–45 bytes of hash table, which with 10,000 dormant agents is ~0.3 MiB
 * per table. Iterates in index order (not insertion order). Sparse keys (a shard of a big home)
 * still work: the array then has holes, or V8 falls back to a dictionary, no worse than a Map.
 */
export class IndexMap<T> {
  readonly #slots: Array<T | undefined> = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(index: number): T | undefined {
    return this.#slots[index];
  }

  has(index: number): boolean {
    return this.#slots[index] !== undefined;
  }

  /** Sets `value` (never undefined: an undefined slot is an absent key). */
  set(index: number, value: T): this {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`not an agent index: ${index}`);
    if (this.#slots[index] === undefined) this.#size++;
    this.#slots[index] = value;
    return this;
  }

  delete(index: number): boolean {
    if (this.#slots[index] === undefined) return false;
    this.#slots[index] = undefined;
    this.#size--;
    // Trailing empty slots go, so a table that empties does not keep its length.
    let end = this.#slots.length;
    while (end > 0 && this.#slots[end - 1] === undefined) end--;
    if (end < this.#slots.length) this.#slots.length = end;
    return true;
  }

  clear(): void {
    this.#slots.length = 0;
    this.#size = 0;
  }

  *entries(): IterableIterator<[number, T]> {
    for (let i = 0; i < this.#slots.length; i++) {
      const value = this.#slots[i];
      if (value !== undefined) yield [i, value];
    }
  }

  *keys(): IterableIterator<number> {
    for (const [index] of this.entries()) yield index;
  }

  *values(): IterableIterator<T> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this.entries();
  }
}

/** A set of agent indexes on an IndexMap: a slot per index instead of a Set entry. */
export class IndexSet {
  readonly #map = new IndexMap<true>();

  get size(): number {
    return this.#map.size;
  }

  has(index: number): boolean {
    return this.#map.has(index);
  }

  add(index: number): this {
    this.#map.set(index, true);
    return this;
  }

  delete(index: number): boolean {
    return this.#map.delete(index);
  }

  values(): IterableIterator<number> {
    return this.#map.keys();
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this.#map.keys();
  }
}
