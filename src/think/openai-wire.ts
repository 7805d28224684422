/**
 * The OpenAI chat-completions wire format: request bodies built from ThinkRequest, and zod schemas
 * that parse responses at the trust boundary (what Ollama, llama.cpp, vLLM, LM Studio, OpenAI and
 * OpenRouter send back).
 */
import { z } from 'zod';
import type { ThinkMessage, ThinkRequest, ThinkResult, ToolCall } from './types.js';

/** One message as the chat-completions endpoint expects it. */
export type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** Extra request fields set per provider (sampling). */
export interface WireOptions {
  temperature?: number;
  maxTokens?: number;
}

/** The JSON body of one chat-completions request. */
export function buildRequestBody(request: ThinkRequest, model: string, options: WireOptions = {}): Record<string, unknown> {
  const messages: WireMessage[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const m of request.messages) messages.push(toWire(m));
  const body: Record<string, unknown> = { model: request.model ?? model, messages, stream: false };
  if (request.tools && request.tools.length > 0) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (options.temperature !== undefined) body.temperature = options.temperature;
  if (options.maxTokens !== undefined) body.max_tokens = options.maxTokens;
  return body;
}

function toWire(m: ThinkMessage): WireMessage {
  switch (m.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant': {
      const out: WireMessage = { role: 'assistant', content: m.content };
      if (m.toolCalls && m.toolCalls.length > 0) {
        out.tool_calls = m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
      }
      return out;
    }
    default:
      return { role: m.role, content: m.content };
  }
}

// Some servers send tool arguments as an object instead of JSON text, or omit the call id.
const WireToolCallSchema = z.object({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.object({
    name: z.string().min(1),
    arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  }),
});

/** A chat-completions response, as much of it as the runtime uses. */
export const ChatCompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          role: z.string().optional(),
          content: z.string().nullish(),
          tool_calls: z.array(WireToolCallSchema).nullish(),
        }),
      }),
    )
    .min(1, 'no choices in the response'),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative().optional(),
    })
    .nullish(),
});
export type ChatCompletion = z.infer<typeof ChatCompletionSchema>;

/** The error body most OpenAI-compatible servers send: `{ error: { message } }` or `{ error: "…" }`. */
export const ErrorBodySchema = z.object({
  error: z.union([z.string(), z.object({ message: z.string() }).loose()]),
});

/** A ThinkResult from a parsed response; estimates tokens (chars / 4) when `usage` is absent. */
export function toThinkResult(completion: ChatCompletion, body: Record<string, unknown>): ThinkResult {
  const message = completion.choices[0]!.message;
  const toolCalls: ToolCall[] = (message.tool_calls ?? []).map((c, i) => ({
    id: c.id && c.id.length > 0 ? c.id : `call_${i}`,
    name: c.function.name,
    arguments: typeof c.function.arguments === 'string' ? c.function.arguments : JSON.stringify(c.function.arguments ?? {}),
  }));
  const result: ThinkResult = {
    usage: completion.usage
      ? { inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens ?? 0 }
      : {
          inputTokens: estimateTokens(JSON.stringify(body.messages ?? '')),
          outputTokens: estimateTokens((message.content ?? '') + toolCalls.map((c) => c.name + c.arguments).join('')),
          estimated: true,
        },
  };
  if (message.content) result.text = message.content;
  if (toolCalls.length > 0) result.toolCalls = toolCalls;
  return result;
}

function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
