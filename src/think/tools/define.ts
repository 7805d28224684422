/** Helpers for writing tools: typed definition, and the JSON Schema the model is given. */
import { z } from 'zod';
import type { ToolSpec } from '../types.js';
import type { Tool } from './types.js';

/** Declares a tool with its argument type inferred from the schema. */
export function defineTool<S extends z.ZodType>(tool: {
  name: string;
  description: string;
  schema: S;
  run: Tool<z.infer<S>>['run'];
  external?: boolean;
  isExternal?: Tool<z.infer<S>>['isExternal'];
  sats?: Tool<z.infer<S>>['sats'];
}): Tool<z.infer<S>> {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) throw new Error(`tool name "${tool.name}" must be 1–64 letters, digits, _ or -`);
  return tool as unknown as Tool<z.infer<S>>;
}

/** The ToolSpec the model sees: the schema as JSON Schema (input side, so defaults stay optional). */
export function toolSpec(tool: Tool): ToolSpec {
  let spec = specs.get(tool);
  if (!spec) {
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(tool.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    spec = { name: tool.name, description: tool.description, parameters };
    specs.set(tool, spec);
  }
  return structuredClone(spec);
}

// Converting a schema is not free and tools are long-lived: convert each once.
const specs = new WeakMap<Tool, ToolSpec>();
