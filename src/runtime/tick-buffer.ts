/**
 * A tick's buffered writes and the memory view over them. Nothing is written until commit:
 * reads see storage plus this tick's own writes, so an aborted tick leaves no trace and a
 * committed one lands in one transaction (storage.commitTick).
 */
import type { AgentStorage, ConversationMessage, Fact, FactOp, JsonValue, KvOp, NewMessage } from '../storage/types.js';
import { StorageBudgetExceededError } from '../storage/errors.js';
import type { TickMemory } from './types.js';

const encoder = new TextEncoder();
const bytes = (text: string): number => encoder.encode(text).length;

/** Search terms the way the fact store cuts them: runs of letters and digits, lowercased. */
export function terms(words: string): string[] {
  return [...new Set([...words.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)].map((m) => m[0]))].slice(0, 32);
}

function toJson(key: string, value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`memory.set("${key}"): value is not JSON-serializable`, { cause: error });
  }
  if (json === undefined) throw new TypeError(`memory.set("${key}"): value is not JSON-serializable`);
  return json;
}

/**
 * A behavior that forgets to `await` a memory call must not crash the daemon when that call
 * rejects after the tick ended ("this tick is over"): the Promise is marked handled, and the
 * caller that awaits it still gets the rejection.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** The writes one tick has buffered, in the shapes commitTick takes. */
export class TickBuffer implements TickMemory {
  readonly kvOps = new Map<string, KvOp>();
  readonly factOps: FactOp[] = [];
  readonly messages: NewMessage[] = [];
  #added: Array<{ id: number; text: string; tags: string[] }> = [];
  #forgotten = new Set<number>();
  #bytesDelta = 0;

  constructor(
    private readonly storage: AgentStorage,
    private readonly agentIndex: number,
    private readonly options: { storedBytes: number; limitBytes?: number; defaultPeer?: string; now: () => number; assertOpen: () => void },
  ) {}

  /** Net bytes this tick adds to stored state (kv, facts, messages), as the storage triggers count them. */
  get bytesDelta(): number {
    return this.#bytesDelta;
  }

  #grow(delta: number): void {
    const limit = this.options.limitBytes;
    if (delta > 0 && limit !== undefined && this.options.storedBytes + this.#bytesDelta + delta > limit) {
      throw new StorageBudgetExceededError(this.agentIndex, this.options.storedBytes + this.#bytesDelta + delta, limit);
    }
    this.#bytesDelta += delta;
  }

  async #kvSize(key: string): Promise<number> {
    const op = this.kvOps.get(key);
    if (op) return op.op === 'set' ? bytes(key) + bytes(JSON.stringify(op.value)) : 0;
    const stored = await this.storage.kv(this.agentIndex).get(key);
    return stored === undefined ? 0 : bytes(key) + bytes(JSON.stringify(stored));
  }

  async #get<T = JsonValue>(key: string): Promise<T | undefined> {
    this.options.assertOpen();
    const op = this.kvOps.get(key);
    if (op) return op.op === 'set' ? (structuredClone(op.value) as T) : undefined;
    return this.storage.kv(this.agentIndex).get<T>(key);
  }

  async #set(key: string, value: JsonValue): Promise<void> {
    this.options.assertOpen();
    if (typeof key !== 'string' || key === '') throw new TypeError('memory.set: key must be a non-empty string');
    const json = toJson(key, value);
    const size = await this.#kvSize(key);
    this.options.assertOpen();
    this.#grow(bytes(key) + bytes(json) - size);
    this.kvOps.set(key, { op: 'set', key, value: JSON.parse(json) as JsonValue });
  }

  async #delete(key: string): Promise<boolean> {
    this.options.assertOpen();
    const size = await this.#kvSize(key);
    this.options.assertOpen();
    this.kvOps.set(key, { op: 'delete', key });
    this.#bytesDelta -= size;
    return size > 0;
  }

  async #list(prefix = ''): Promise<Array<{ key: string; value: JsonValue }>> {
    this.options.assertOpen();
    const merged = new Map((await this.storage.kv(this.agentIndex).list(prefix)).map((e) => [e.key, e.value] as const));
    for (const [key, op] of this.kvOps) {
      if (!key.startsWith(prefix)) continue;
      if (op.op === 'set') merged.set(key, op.value as JsonValue);
      else merged.delete(key);
    }
    return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
  }

  remember(text: string, options: { tags?: string[] } = {}): void {
    this.options.assertOpen();
    const clean = text.trim();
    if (clean === '') throw new TypeError('memory.remember: a fact must not be empty');
    const tags = options.tags ?? [];
    this.#grow(bytes(clean) + bytes(JSON.stringify(tags)));
    this.#added.push({ id: -(this.#added.length + 1), text: clean, tags });
    this.factOps.push({ op: 'add', text: clean, tags });
  }

  async #recall(words: string, limit = 10): Promise<Fact[]> {
    this.options.assertOpen();
    const wanted = terms(words);
    if (wanted.length === 0) return [];
    const now = this.options.now();
    const fresh = this.#added
      .filter((f) => wanted.some((t) => terms(`${f.text} ${f.tags.join(' ')}`).some((w) => w.startsWith(t))))
      .reverse()
      .map((f) => ({ id: f.id, text: f.text, tags: f.tags, createdAt: now }));
    const stored = (await this.storage.facts(this.agentIndex).search(words, limit + this.#forgotten.size))
      .filter((f) => !this.#forgotten.has(f.id))
      .map(({ rank: _rank, ...fact }) => fact);
    return [...fresh, ...stored].slice(0, limit);
  }

  async #forget(words: string): Promise<number> {
    this.options.assertOpen();
    const wanted = terms(words);
    if (wanted.length === 0) return 0;
    // Facts containing ALL the words: intersect the store's per-term matches (same stemming as its forget).
    const facts = this.storage.facts(this.agentIndex);
    let ids: Set<number> | undefined;
    const sizes = new Map<number, number>();
    for (const term of wanted) {
      const hits = await facts.search(term, 10_000);
      for (const f of hits) sizes.set(f.id, bytes(f.text) + bytes(JSON.stringify(f.tags)));
      const hitIds = new Set(hits.map((f) => f.id));
      ids = ids ? new Set([...ids].filter((id) => hitIds.has(id))) : hitIds;
    }
    this.options.assertOpen();
    let count = 0;
    for (const id of ids ?? []) {
      if (this.#forgotten.has(id)) continue;
      this.#forgotten.add(id);
      this.factOps.push({ op: 'forgetId', id });
      this.#bytesDelta -= sizes.get(id) ?? 0;
      count++;
    }
    const keep = this.#added.filter((f) => !wanted.every((t) => terms(f.text).some((w) => w.startsWith(t))));
    count += this.#added.length - keep.length;
    for (const f of this.#added) if (!keep.includes(f)) this.#bytesDelta -= bytes(f.text) + bytes(JSON.stringify(f.tags));
    if (keep.length !== this.#added.length) {
      this.#added = keep;
      // Rebuild the add ops from what is still kept (forget ops keep their order after them).
      const others = this.factOps.filter((op) => op.op !== 'add');
      this.factOps.length = 0;
      this.factOps.push(...keep.map((f) => ({ op: 'add' as const, text: f.text, tags: f.tags })), ...others);
    }
    return count;
  }

  async #forgetId(id: number): Promise<boolean> {
    this.options.assertOpen();
    if (!Number.isInteger(id) || this.#forgotten.has(id)) return false;
    const fact = await this.storage.facts(this.agentIndex).get(id);
    this.options.assertOpen();
    if (!fact || this.#forgotten.has(id)) return false;
    this.#forgotten.add(id);
    this.factOps.push({ op: 'forgetId', id });
    this.#bytesDelta -= bytes(fact.text) + bytes(JSON.stringify(fact.tags));
    return true;
  }

  async #history(peer?: string, limit = 20): Promise<ConversationMessage[]> {
    this.options.assertOpen();
    const who = peer ?? this.options.defaultPeer;
    if (!who) return [];
    const stored = await this.storage.conversations(this.agentIndex).history(who, limit);
    const fresh = this.messages.filter((m) => m.peer === who).map((m, i) => ({ ...m, id: -(i + 1) }));
    return [...stored, ...fresh].slice(-limit);
  }

  get<T = JsonValue>(key: string): Promise<T | undefined> {
    return handled(this.#get<T>(key));
  }

  set(key: string, value: JsonValue): Promise<void> {
    return handled(this.#set(key, value));
  }

  delete(key: string): Promise<boolean> {
    return handled(this.#delete(key));
  }

  list(prefix = ''): Promise<Array<{ key: string; value: JsonValue }>> {
    return handled(this.#list(prefix));
  }

  recall(words: string, limit = 10): Promise<Fact[]> {
    return handled(this.#recall(words, limit));
  }

  forget(words: string): Promise<number> {
    return handled(this.#forget(words));
  }

  /** Forgets one stored fact by id (a tool's "forget id"); false when the agent has no such fact. */
  forgetId(id: number): Promise<boolean> {
    return handled(this.#forgetId(id));
  }

  history(peer?: string, limit = 20): Promise<ConversationMessage[]> {
    return handled(this.#history(peer, limit));
  }

  /** Logs a conversation message to commit with the tick (counted against storage, never refused: see engine). */
  logMessage(message: NewMessage): void {
    this.messages.push(message);
    this.#bytesDelta += bytes(message.text);
  }
}
