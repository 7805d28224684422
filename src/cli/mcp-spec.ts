/**
 * `--mcp 'name=command args…'` (stdio) and `--mcp 'name=https://…'` (Streamable HTTP) as server
 * configs, and the `--env`, `--pass-env`, `--header` and `--allow` flags of `agent mcp … add`.
 * The command line is split like a POSIX shell would (quotes and backslashes), but never run by one.
 */
import { z } from 'zod';
import { McpServerNameSchema, McpServerSchema, type McpServerConfig } from '../think/mcp/types.js';
import { UsageError } from './errors.js';

/** Splits a command line into words: '…' literal, "…" with \" and \\, \ escapes the next character. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/** Parses one `name=spec`; throws a UsageError naming what is wrong. */
export function parseMcpSpec(spec: string, extra: Record<string, unknown> = {}): { name: string; config: McpServerConfig } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UsageError(`--mcp takes name=command… or name=https://…, got "${spec}"`);
  const name = spec.slice(0, eq).trim();
  const rest = spec.slice(eq + 1).trim();
  const checkedName = McpServerNameSchema.safeParse(name);
  if (!checkedName.success) throw new UsageError(`MCP server name "${name}" ${checkedName.error.issues[0]!.message}`);
  let raw: Record<string, unknown>;
  if (/^https?:\/\//i.test(rest)) raw = { url: rest, ...extra };
  else {
    const [command, ...args] = shellWords(rest);
    if (!command) throw new UsageError(`--mcp ${name}=…: give the command that starts the server`);
    raw = { command, args, ...extra };
  }
  const parsed = McpServerSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`MCP server "${name}": ${z.prettifyError(parsed.error).replace(/\n\s*/g, ' ')}`);
  return { name, config: parsed.data };
}

/** `KEY=VALUE` pairs as a record (for --env). */
export function keyValues(items: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${flag} takes KEY=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `Name: value` pairs as a record (for --header). */
export function headerValues(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const colon = item.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header takes "Name: value", got "${item}"`);
    out[item.slice(0, colon).trim()] = item.slice(colon + 1).trim();
  }
  return out;
}
