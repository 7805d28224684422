/** The built-in behaviors by name: what `agent create --behavior` accepts out of the box. */
import type { AgentBehavior } from '../runtime/types.js';
import { assistant } from './assistant.js';
import { echo } from './echo.js';
import { llm } from './llm.js';

/** A fresh registry with the built-ins; add user behaviors with `.set(name, behavior)`. */
export function builtinBehaviors(): Map<string, AgentBehavior> {
  return new Map<string, AgentBehavior>([
    [echo.name, echo],
    [assistant.name, assistant],
    [llm.name, llm],
  ]);
}

export { assistant, echo, llm };
export { defineAgent, BehaviorDefinitionError } from './define-agent.js';
