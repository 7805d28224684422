/** Memory tools: remember a fact, recall facts by full-text search, forget one by id. */
import { z } from 'zod';
import { defineTool } from './define.js';
import { ToolInputError } from './types.js';

/** Stores one fact in the agent's long-term memory. */
export const rememberTool = defineTool({
  name: 'remember',
  description: 'Store a fact in your long-term memory so you can recall it in later conversations.',
  schema: z.object({
    text: z.string().trim().min(1).max(2000).describe('The fact, as a self-contained sentence.'),
  }),
  async run({ text }, ctx) {
    const { id } = await ctx.memory.remember(text);
    return { ok: true, id };
  },
});

/** Searches remembered facts (SQLite FTS5 behind the context). */
export const recallTool = defineTool({
  name: 'recall',
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

/** Removes one fact by the id recall returned. */
export const forgetTool = defineTool({
  name: 'forget',
  description: 'Remove a fact from your long-term memory, by the id that recall returned.',
  schema: z.object({ id: z.string().trim().min(1).max(100).describe('The fact id from recall.') }),
  async run({ id }, ctx) {
    if (!(await ctx.memory.forget(id))) throw new ToolInputError(`no fact with id ${JSON.stringify(id)}`);
    return { ok: true, forgotten: id };
  },
});
