/**
 * The deterministic provider for tests and demos: replays a JSONL script of responses, either in
 * order, or picked by the last user message. A recording made by RecordingProvider is a valid script.
 *
 * Script lines (one JSON object each; blank lines and lines starting with `//` are skipped):
 *   {"text": "hi"}                                             a bare response
 *   {"toolCalls": [{"name": "remember", "arguments": {"text": "x"}}]}
 *   {"match": "remember", "response": {"toolCalls": [...]}}    used in match mode
 *   {"at": …, "request": …, "response": {…}}                   a recording line (error lines are skipped)
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AbortError } from '../util/clock.js';
import { ScriptError } from './errors.js';
import type { ThinkProvider, ThinkRequest, ThinkResult } from './types.js';

const ResponseSchema = z
  .object({
    text: z.string().optional(),
    toolCalls: z
      .array(
        z.object({
          id: z.string().optional(),
          name: z.string().min(1),
          arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).default({}),
        }),
      )
      .optional(),
    usage: z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() }).optional(),
  })
  .refine((r) => r.text !== undefined || (r.toolCalls?.length ?? 0) > 0, 'a response needs "text" or "toolCalls"');

const LineSchema = z.union([
  z.object({ match: z.string().optional(), response: ResponseSchema }).loose(),
  ResponseSchema,
]);

/** One scripted answer, and in match mode the text the last user message must contain. */
export interface ScriptEntry {
  match?: string;
  response: ThinkResult;
}

/** `order`: each call takes the next entry. `match`: see ScriptedProvider. */
export type ScriptMode = 'order' | 'match';

/** Parses script text; throws ScriptError naming the source and line number of a bad line. */
export function parseScript(text: string, source = 'script'): ScriptEntry[] {
  const entries: ScriptEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('//')) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (cause) {
      throw new ScriptError(`${source}:${index + 1}: not valid JSON`, { cause });
    }
    if (typeof json === 'object' && json !== null && 'error' in json && !('response' in json)) return;
    const parsed = LineSchema.safeParse(json);
    if (!parsed.success) throw new ScriptError(`${source}:${index + 1}: ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`);
    const data = parsed.data;
    const response = 'response' in data ? data.response : data;
    const match = 'match' in data && typeof data.match === 'string' ? data.match : undefined;
    entries.push({ ...(match !== undefined ? { match } : {}), response: toResult(response, entries.length) });
  });
  return entries;
}

function toResult(r: z.infer<typeof ResponseSchema>, n: number): ThinkResult {
  const result: ThinkResult = { usage: r.usage ?? { inputTokens: 0, outputTokens: 0 } };
  if (r.text !== undefined) result.text = r.text;
  if (r.toolCalls?.length) {
    result.toolCalls = r.toolCalls.map((c, i) => ({
      id: c.id ?? `script_${n}_${i}`,
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    }));
  }
  return result;
}

/**
 * Replays entries. In `order` mode calls consume entries one after another. In `match` mode the
 * first `match` (in file order) that the last user message contains, case-insensitively, picks the
 * sequence of entries with that same `match` (entries without one are the fallback sequence), and
 * the k-th call since that user message gets the k-th of them: stateless, so the same conversation
 * always replays the same way.
 */
export class ScriptedProvider implements ThinkProvider {
  readonly name: string;
  #next = 0;

  constructor(
    private readonly entries: ScriptEntry[],
    private readonly mode: ScriptMode = 'order',
    private readonly source = 'script',
  ) {
    this.name = `scripted(${source})`;
  }

  /** Loads a JSONL script file (read synchronously: scripts are small and read once). */
  static fromFile(file: string, mode: ScriptMode = 'order'): ScriptedProvider {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new ScriptError(`cannot read script ${file}: ${(cause as Error).message}`, { cause });
    }
    return new ScriptedProvider(parseScript(text, file), mode, file);
  }

  async think(request: ThinkRequest, options: { signal?: AbortSignal } = {}): Promise<ThinkResult> {
    if (options.signal?.aborted) throw new AbortError('scripted call aborted', { cause: options.signal.reason });
    if (this.mode === 'order') {
      const entry = this.entries[this.#next];
      if (!entry) throw new ScriptError(`${this.source} ran out: all ${this.entries.length} responses were used`);
      this.#next++;
      return structuredClone(entry.response);
    }
    const lastUser = request.messages.findLastIndex((m) => m.role === 'user');
    const said = lastUser >= 0 ? (request.messages[lastUser] as { content: string }).content.toLowerCase() : '';
    const turn = request.messages.slice(lastUser + 1).filter((m) => m.role === 'assistant').length;
    const key = this.entries.find((e) => e.match !== undefined && said.includes(e.match.toLowerCase()))?.match;
    const candidates = this.entries.filter((e) => e.match === key);
    const entry = candidates[turn];
    if (!entry) {
      throw new ScriptError(`${this.source} has no response #${turn + 1} for the message ${JSON.stringify(said.slice(0, 60))} (${candidates.length} matching)`);
    }
    return structuredClone(entry.response);
  }
}
