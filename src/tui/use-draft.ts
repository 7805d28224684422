/**
 * The input line's text. Kept in a ref as well as in state: one pasted chunk can type and send in
 * the same tick, before React has re-rendered, and `take` must see what was just typed.
 */
import { useCallback, useMemo, useRef, useState } from 'react';

/** The draft and its edits. */
export function useDraft() {
  const ref = useRef('');
  const [value, setValue] = useState('');
  const set = useCallback((next: string) => {
    ref.current = next;
    setValue(next);
  }, []);
  return useMemo(
    () => ({
      value,
      type: (text: string) => set(ref.current + text),
      backspace: () => set(Array.from(ref.current).slice(0, -1).join('')),
      clear: () => set(''),
      /** Returns the draft trimmed and empties it (unless it is blank). */
      take: (): string => {
        const text = ref.current.trim();
        if (text) set('');
        return text;
      },
    }),
    [value, set],
  );
}
