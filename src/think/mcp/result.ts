/**
 * An MCP tool result as the model is told it: text parts joined, structured content as JSON when
 * there is no text, binary parts named (not inlined), all cut at a size limit. `isError` results
 * become error outcomes. The result comes from a server: it is parsed, never trusted.
 */
import { z } from 'zod';
import type { McpCallOutcome } from './types.js';

/** The most characters of a result handed to the model. */
export const MAX_RESULT_CHARS = 64 * 1024;

const Part = z.looseObject({ type: z.string() });
const Result = z.looseObject({
  content: z.array(Part).default([]),
  structuredContent: z.unknown().optional(),
  isError: z.boolean().optional(),
  toolResult: z.unknown().optional(),
});

function describePart(part: Record<string, unknown>): string {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  switch (part.type) {
    case 'text':
      return str(part.text);
    case 'image':
    case 'audio':
      return `[${part.type}: ${str(part.mimeType) || 'unknown type'}, ${str(part.data).length} base64 characters]`;
    case 'resource': {
      const r = (part.resource ?? {}) as Record<string, unknown>;
      return typeof r.text === 'string' ? r.text : `[resource ${str(r.uri)}${r.mimeType ? ` (${str(r.mimeType)})` : ''}]`;
    }
    case 'resource_link':
      return `[link ${str(part.uri)}${part.name ? ` "${str(part.name)}"` : ''}]`;
    default:
      return `[${String(part.type).slice(0, 40)} content]`;
  }
}

function clip(text: string): string {
  if (text.length <= MAX_RESULT_CHARS) return text;
  return `${text.slice(0, MAX_RESULT_CHARS)}\n[truncated: the result had ${text.length} characters]`;
}

/** The outcome for a tools/call result. */
export function formatToolResult(server: string, tool: string, raw: unknown): McpCallOutcome {
  const parsed = Result.safeParse(raw);
  if (!parsed.success) return { ok: false, content: JSON.stringify({ error: `${server}.${tool} returned a malformed result` }), error: 'malformed result' };
  const { content, structuredContent, isError, toolResult } = parsed.data;
  let text = content.map((p) => describePart(p)).filter((t) => t !== '').join('\n');
  if (text === '' && structuredContent !== undefined) text = JSON.stringify(structuredContent);
  // Servers on the 2024-10-07 protocol answer with `toolResult`.
  if (text === '' && toolResult !== undefined) text = typeof toolResult === 'string' ? toolResult : JSON.stringify(toolResult);
  text = clip(text);
  if (isError) {
    const error = text || `${server}.${tool} reported an error`;
    return { ok: false, content: JSON.stringify({ error }), error: error.slice(0, 500) };
  }
  return { ok: true, content: text };
}
