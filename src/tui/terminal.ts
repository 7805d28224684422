/** Facts about the terminal the UI decides on before React loads (so this file imports nothing). */

/** Whether to use colors: not when NO_COLOR is set and non-empty (https://no-color.org), nor on a dumb terminal. */
export function colorsWanted(env: NodeJS.ProcessEnv): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}
