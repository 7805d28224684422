/**
 * The entry `agent chat` imports lazily: renders the chat app on the terminal and resolves when the
 * owner quits (Ctrl+C). Kept apart so no other command ever loads React or Ink.
 */
import { render } from 'ink';
import { ChatApp, type ChatAppProps } from './App.js';

/** Terminal streams to use (the process's by default). */
export interface RunChatStreams {
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** Runs the chat UI until the owner quits; the transport is the caller's to close. */
export async function runChat(props: ChatAppProps, streams: RunChatStreams = {}): Promise<void> {
  const instance = render(<ChatApp {...props} />, {
    ...streams,
    // Ctrl+C is bound by the app itself so quitting goes through one path.
    exitOnCtrlC: false,
    // Stray console output from libraries would tear the live area; Ink prints it above instead.
    patchConsole: true,
  });
  try {
    await instance.waitUntilExit();
  } finally {
    instance.cleanup();
  }
}
