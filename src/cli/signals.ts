/** Waiting for SIGINT/SIGTERM in a foreground command, with a second signal forcing the exit. */

/** Resolves with the signal's name on the first SIGINT or SIGTERM; a second one exits at once (code 130). */
export function untilSignal(onSecond: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (seen) return onSecond();
      seen = true;
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
