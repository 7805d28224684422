/** Asking the user for a secret on the terminal without echoing it. */
import { CliError } from './errors.js';

/** Reads one line from the TTY with echo off. Fails clearly when there is no terminal. */
export function askHidden(prompt: string, stdin: NodeJS.ReadStream = process.stdin, out: NodeJS.WritableStream = process.stderr): Promise<string> {
  if (!stdin.isTTY) {
    return Promise.reject(new CliError('a passphrase is needed but there is no terminal to ask on: set AGENT_PASSPHRASE', 2));
  }
  return new Promise((resolve, reject) => {
    out.write(prompt);
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      out.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
