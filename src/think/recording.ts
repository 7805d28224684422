/**
 * A decorator that appends every call to a JSONL file: `{at, provider, request, response}` or
 * `{at, provider, request, error}`. The ScriptedProvider replays such a file, so a session with a
 * real model can become a deterministic test or demo (the gemini-cli record/replay idea).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../util/clock.js';
import { redact } from './errors.js';
import type { ThinkProvider, ThinkRequest, ThinkResult } from './types.js';

/** One line of a recording. */
export interface RecordingLine {
  at: number;
  provider: string;
  request: ThinkRequest;
  response?: ThinkResult;
  error?: { name: string; message: string; status?: number };
}

/** Options: the file, and strings to scrub from every line (pass the API key; it is never sent in a request, this is belt and braces). */
export interface RecordingOptions {
  file: string;
  secrets?: string[];
  clock?: Clock;
}

/** Records to JSONL, then returns (or rethrows) what the wrapped provider did. */
export class RecordingProvider implements ThinkProvider {
  readonly name: string;
  #queue: Promise<void> = Promise.resolve();
  #dirReady: Promise<unknown> | undefined;

  constructor(
    private readonly inner: ThinkProvider,
    private readonly options: RecordingOptions,
  ) {
    this.name = `recording(${inner.name})`;
  }

  async think(request: ThinkRequest, options: { signal?: AbortSignal } = {}): Promise<ThinkResult> {
    const at = (this.options.clock ?? systemClock).now();
    const line: RecordingLine = { at, provider: this.inner.name, request };
    try {
      const response = await this.inner.think(request, options);
      line.response = response;
      await this.#append(line);
      return response;
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      const status = (e as { status?: unknown }).status;
      line.error = { name: e.name, message: e.message, ...(typeof status === 'number' ? { status } : {}) };
      await this.#append(line);
      throw error;
    }
  }

  /** Resolves once every line so far is on disk. */
  flush(): Promise<void> {
    return this.#queue;
  }

  #append(line: RecordingLine): Promise<void> {
    const text = `${redact(JSON.stringify(line), this.options.secrets ?? [])}\n`;
    this.#dirReady ??= mkdir(dirname(this.options.file), { recursive: true });
    // Chained so lines land in call order even when calls overlap.
    const next = this.#queue.then(async () => {
      await this.#dirReady;
      await appendFile(this.options.file, text, { encoding: 'utf8', mode: 0o600 });
    });
    this.#queue = next.catch(() => {});
    return next;
  }
}
