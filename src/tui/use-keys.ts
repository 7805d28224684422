/**
 * The keyboard: Tab switches pane, ↑/↓ select an agent, Enter sends (or, in the agent list, moves
 * to the input), Ctrl+T toggles the trajectory view, Esc closes it, Ctrl+Y / Ctrl+N approve or deny
 * the selected agent's oldest pending approval, Ctrl+C quits. Typed or pasted
 * text goes to the input line; a newline inside pasted text sends, like Enter.
 */
import { useInput } from 'ink';
import { useRef } from 'react';
import type { Pane } from './types.js';

/** What the keys do; the app supplies the actions. */
export interface KeyActions {
  /** The pane with focus now (read at each key, not at render). */
  pane(): Pane;
  onQuit(): void;
  onToggleTrajectory(): void;
  onEscape(): void;
  onSwitchPane(): void;
  onFocusInput(): void;
  onSelect(step: number): void;
  onType(text: string): void;
  onBackspace(): void;
  onClear(): void;
  onSubmit(): void;
  /** Ctrl+Y / Ctrl+N: answer the oldest pending approval of the selected agent. */
  onApproval(approve: boolean): void;
}

// Keep printable text only: a pasted chunk may carry stray control bytes.
const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');

/** Binds the chat keys (one useInput for the whole app). */
export function useKeys(latest: KeyActions): void {
  // One stable handler reading the latest actions, so no key is handled with a stale render's.
  const ref = useRef(latest);
  ref.current = latest;
  useInput((input, key) => {
    const actions = ref.current;
    if (key.ctrl && input === 'c') return actions.onQuit();
    if (key.ctrl && input === 't') return actions.onToggleTrajectory();
    if (key.ctrl && input === 'u') return actions.onClear();
    if (key.ctrl && input === 'y') return actions.onApproval(true);
    if (key.ctrl && input === 'n') return actions.onApproval(false);
    if (key.escape) return actions.onEscape();
    if (key.tab) return actions.onSwitchPane();
    if (key.upArrow) return actions.onSelect(-1);
    if (key.downArrow) return actions.onSelect(1);
    if (key.return) return actions.pane() === 'agents' ? actions.onFocusInput() : actions.onSubmit();
    if (key.backspace || key.delete) return actions.pane() === 'input' ? actions.onBackspace() : undefined;
    if (key.ctrl || key.meta || !input) return;
    // Typing while the agent list has focus moves to the input line.
    if (actions.pane() === 'agents') actions.onFocusInput();
    const parts = input.split(/\r\n|\r|\n/);
    parts.forEach((part, i) => {
      if (i > 0) actions.onSubmit();
      const text = printable(part);
      if (text) actions.onType(text);
    });
  });
}
