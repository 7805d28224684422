/** Memory tools: remember a fact, recall facts by full-text search, forget one by id. */
import { z } from 'zod';
import { defineTool } from './define.js';
import { ToolInputError } from './types.js';

/** Stores one fact in the agent's long-term memory. */
export const rememberTool = defineTool({
  name: 'remember',
  external: false,
  description: 'Store a fact in your long-term memory so you can recall it in later conversations.',
  schema: z.object({
    text: z.string().trim().min(1).max(2000).describe('The fact, as a self-contained sentence.'),
    tags: z.array(z.string().trim().min(1).max(50)).max(10).optional().describe('Optional keywords for the fact.'),
  }),
  async run({ text, tags }, ctx) {
    const { id } = await ctx.memory.remember(text, tags ? { tags } : {});
    return { ok: true, ...(id !== undefined ? { id } : {}) };
  },
});

/** Searches remembered facts (SQLite FTS5 behind the context). */
export const recallTool = defineTool({
  name: 'recall',
  external: false,
  description: 'Search your long-term memory. Returns the best matching facts with their ids.',
  schema: z.object({
    query: z.string().trim().min(1).max(500).describe('Words to search for.'),
    limit: z.number().int().min(1).max(20).default(5).describe('How many facts at most (default 5).'),
  }),
  async run({ query, limit }, ctx) {
    const facts = await ctx.memory.recall(query, { limit });
    return { facts: facts.map((f) => ({ id: f.id, text: f.text })) };
  },
});

/** Removes one fact by the id recall returned, or every fact containing all the given words. */
export const forgetTool = defineTool({
  name: 'forget',
  external: false,
  description: 'Remove facts from your long-term memory: one by the id recall returned, or all facts containing every one of the words.',
  schema: z
    .object({
      id: z.string().trim().min(1).max(100).optional().describe('A fact id from recall.'),
      words: z.string().trim().min(1).max(500).optional().describe('Forget the facts containing all these words.'),
    })
    .refine((a) => (a.id === undefined) !== (a.words === undefined), 'give exactly one of id or words'),
  async run({ id, words }, ctx) {
    const forgotten = await ctx.memory.forget(id !== undefined ? { id } : { words: words! });
    if (forgotten === 0) throw new ToolInputError(id !== undefined ? `no fact with id ${JSON.stringify(id)}` : `no fact contains all of: ${words}`);
    return { ok: true, forgotten };
  },
});
