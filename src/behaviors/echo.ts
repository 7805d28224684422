/** The `echo` agent: answers every DM and mention with `echo: <text>`. For tests and demos. */
import { defineAgent } from './define-agent.js';

/** Replies `echo: <text>` by the protocol the message came by; anyone may DM it. */
export const echo = defineAgent({
  name: 'echo',
  about: 'Replies "echo: <text>" to every DM and mention.',
  defaultDmPolicy: 'open',
  onMessage(ctx, message) {
    ctx.reply(`echo: ${message.text}`);
  },
  onMention(ctx, message) {
    ctx.reply(`echo: ${message.text}`);
  },
});
