/**
 * State that key handlers read: the value is also kept in a ref, set at once, so a second key in
 * the same input chunk (Tab then a letter, ↓ then Enter) sees the first one's effect before React
 * has re-rendered.
 */
import { useCallback, useRef, useState } from 'react';

/** [value for rendering, setter, ref with the latest value for handlers]. */
export function useSynced<T>(initial: T): [T, (next: T) => void, { readonly current: T }] {
  const ref = useRef(initial);
  const [value, setValue] = useState(initial);
  const set = useCallback((next: T) => {
    ref.current = next;
    setValue(next);
  }, []);
  return [value, set, ref];
}
