/**
 * Names of MCP tools. Inside the runtime (config, allowlist, trajectory, approvals) a tool is
 * `server.tool`. The OpenAI function-calling format accepts only `^[a-zA-Z0-9_-]{1,64}$` as a
 * function name (no dot), so the model sees `server__tool`: the dot becomes two underscores (server
 * names have none), any other character outside the set becomes `_`, and a name that is then too
 * long or taken gets cut and a 6-character hash of the real name appended. The wire name is only a
 * label: calls are mapped back through the table built for the tick, never by parsing.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** What a capabilities entry for MCP tools looks like: `server.tool` or `server.*`. */
export const MCP_TOOL_ENTRY = /^([a-z0-9][a-z0-9-]{0,31})\.(\*|[A-Za-z0-9_./-]{1,128})$/;

/** `server.tool`. */
export function qualifiedName(server: string, tool: string): string {
  return `${server}.${tool}`;
}

/** The server of a `server.tool` capabilities entry, or undefined for a built-in tool name. */
export function serverOfEntry(entry: string): string | undefined {
  return MCP_TOOL_ENTRY.exec(entry)?.[1];
}

/** True when `tools` (the agent's capabilities) grants `server.tool`, by name or by `server.*`. */
export function grantsMcpTool(tools: readonly string[], server: string, tool: string): boolean {
  return tools.includes(qualifiedName(server, tool)) || tools.includes(`${server}.*`);
}

/** True when `pattern` (a tool name, `server.tool` or `server.*`) covers `name`. */
export function entryCovers(pattern: string, name: string): boolean {
  if (pattern === name) return true;
  const server = serverOfEntry(pattern);
  return server !== undefined && pattern === `${server}.*` && serverOfEntry(name) === server;
}

const WIRE = /^[a-zA-Z0-9_-]{1,64}$/;

/** Assigns each `server.tool` a distinct wire name that is none of `taken` (the built-in tools' names). */
export function wireNames(tools: ReadonlyArray<{ server: string; tool: string }>, taken: Iterable<string>): Map<string, { server: string; tool: string }> {
  const used = new Set(taken);
  const out = new Map<string, { server: string; tool: string }>();
  for (const t of tools) {
    let wire = `${t.server}__${t.tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
    if (!WIRE.test(wire) || used.has(wire)) {
      const hash = bytesToHex(sha256(new TextEncoder().encode(qualifiedName(t.server, t.tool)))).slice(0, 6);
      wire = `${wire.slice(0, 57)}_${hash}`;
      for (let n = 2; used.has(wire); n++) wire = `${wire.slice(0, 57)}_${hash.slice(0, 4)}${n}`;
    }
    used.add(wire);
    out.set(wire, t);
  }
  return out;
}
