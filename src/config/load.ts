/**
 * Loads `<home>/config.json`, applies defaults, and turns any problem into a ConfigError naming the
 * file and the field in plain words. A missing file is the empty config, not an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { homePaths } from './home.js';
import { ConfigSchema, type Config } from './schema.js';

/** Parses config text; `file` is used in error messages. */
export function parseConfig(text: string, file: string): Config {
  let raw: unknown;
  try {
    raw = text.trim() ? JSON.parse(text) : {};
  } catch (cause) {
    throw new ConfigError(`${file}: not valid JSON (${(cause as Error).message})`, { cause });
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const where = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
      return `${where}: ${issue.message}`;
    });
    throw new ConfigError(`${file}: ${issues.join('; ')}`, { cause: new Error(z.prettifyError(result.error)) });
  }
  return result.data;
}

/** Loads the home's config (defaults when the file is absent). */
export function loadConfig(home: string): Config {
  const file = homePaths(home).config;
  if (!existsSync(file)) return ConfigSchema.parse({});
  return parseConfig(readFileSync(file, 'utf8'), file);
}
