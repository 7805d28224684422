/**
 * User behaviors: an agent whose behavior is a path (`agent create bot --behavior ./my-agent.js`)
 * runs the module's default export (written with `defineAgent`). Modules are loaded by the daemon
 * at start and on create; a module that fails to load is a clear error naming the file.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineAgent } from '../behaviors/define-agent.js';
import type { AgentBehavior } from '../runtime/types.js';
import { UsageError } from './errors.js';

/** True when a behavior name is a module path rather than a built-in. */
export function isModuleBehavior(behavior: string): boolean {
  return behavior.startsWith('.') || isAbsolute(behavior);
}

/** The absolute path a module behavior is stored under (checked to exist). */
export function resolveModuleBehavior(behavior: string, cwd = process.cwd()): string {
  const path = resolve(cwd, behavior);
  if (!existsSync(path)) throw new UsageError(`behavior module not found: ${path}`);
  return path;
}

/** Imports a behavior module and validates its default export (or `agent` export) with defineAgent. */
export async function loadBehaviorModule(path: string): Promise<AgentBehavior> {
  let mod: { default?: unknown; agent?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as typeof mod;
  } catch (cause) {
    throw new UsageError(`could not load behavior module ${path}: ${(cause as Error).message}`, { cause });
  }
  const exported = mod.default ?? mod.agent;
  if (!exported) throw new UsageError(`behavior module ${path} has no default export (export default defineAgent({ … }))`);
  try {
    return defineAgent(exported as AgentBehavior);
  } catch (cause) {
    throw new UsageError(`behavior module ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Loads every module behavior used by `behaviors` into the registry (keyed by path). */
export async function registerModuleBehaviors(registry: Map<string, AgentBehavior>, behaviors: Iterable<string>): Promise<void> {
  for (const behavior of behaviors) {
    if (isModuleBehavior(behavior) && !registry.has(behavior)) registry.set(behavior, await loadBehaviorModule(behavior));
  }
}
