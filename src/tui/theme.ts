/**
 * Colors on or off (NO_COLOR, or a terminal without them). Components ask `tone()` for a color and
 * get none when colors are off; meaning never rests on color alone (markers and words carry it).
 */
import { createContext, useContext } from 'react';

/** The palette roles the UI uses. */
export type Tone = 'accent' | 'owner' | 'agent' | 'ok' | 'warn' | 'error' | 'muted';

const COLORS: Record<Tone, string> = {
  accent: 'cyan',
  owner: 'green',
  agent: 'magenta',
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  muted: 'gray',
};

/** Whether to color. */
export interface Theme {
  color: boolean;
}

/** The theme for the component tree (colors on unless told otherwise). */
export const ThemeContext = createContext<Theme>({ color: true });

/** The current theme. */
export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** The Ink color for a role, or undefined when colors are off. */
export function tone(theme: Theme, role: Tone): string | undefined {
  return theme.color ? COLORS[role] : undefined;
}
