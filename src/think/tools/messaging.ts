/** Messaging tools: send_dm (NIP-17 through the runtime's outbox), publish_note (kind 1) and delegate. */
import { z } from 'zod';
import { isHex32 } from '../../protocol/hex.js';
import { checkDmAllowed, publicKeyArg } from './allow.js';
import { defineTool } from './define.js';
import { ToolRefusedError } from './types.js';

/** Sends an encrypted DM to a public key, if dmAllow permits. */
export const sendDmTool = defineTool({
  name: 'send_dm',
  description: 'Send an encrypted direct message to a Nostr user (hex public key or npub).',
  // A DM to the owner stays between the agent and its owner; to anyone else it is an external action.
  isExternal: ({ to }, ctx) => {
    try {
      return publicKeyArg(to) !== ctx.ownerPubkey;
    } catch {
      return true;
    }
  },
  schema: z.object({
    to: z.string().trim().min(1).describe('Recipient: 64-hex public key or npub1….'),
    text: z.string().min(1).max(8000).describe('The message.'),
  }),
  async run({ to, text }, ctx) {
    const pubkey = publicKeyArg(to);
    checkDmAllowed(pubkey, ctx.capabilities.dmAllow);
    const { id } = await ctx.sendDm(pubkey, text);
    return { ok: true, to: pubkey, ...(id ? { id } : {}) };
  },
});

/** Publishes a public kind 1 note signed by the agent. */
export const publishNoteTool = defineTool({
  name: 'publish_note',
  description: 'Publish a public short text note (Nostr kind 1) as yourself.',
  schema: z.object({ text: z.string().trim().min(1).max(8000).describe('The note text.') }),
  async run({ text }, ctx) {
    const { id } = await ctx.publishNote(text);
    return { ok: true, ...(id ? { id } : {}) };
  },
});

/** Asks another agent by DM and waits for its reply. */
export const delegateTool = defineTool({
  name: 'delegate',
  description:
    'Ask another agent to do something: sends it a DM and waits for its reply (up to timeout_seconds, default 60).',
  schema: z.object({
    agent: z.string().trim().min(1).max(200).describe('The other agent: npub, hex public key, or its name.'),
    text: z.string().min(1).max(8000).describe('The request.'),
    timeout_seconds: z.number().int().min(1).max(600).default(60).describe('How long to wait for the reply.'),
  }),
  async run({ agent, text, timeout_seconds }, ctx, options) {
    const looksLikeKey = agent.startsWith('npub1') || agent.startsWith('nprofile1') || agent.startsWith('nostr:') || isHex32(agent.toLowerCase());
    let target = agent;
    if (looksLikeKey) {
      target = publicKeyArg(agent);
      checkDmAllowed(target, ctx.capabilities.dmAllow);
    } else if (ctx.capabilities.dmAllow.length > 0 && !ctx.capabilities.dmAllow.includes(agent)) {
      // A name is allowed only when listed by name; the runtime checks the resolved key again.
      throw new ToolRefusedError(`delegating to "${agent}" is not allowed: the agent's dmAllow list does not include it`);
    }
    const reply = await ctx.delegate(target, text, { timeoutMs: timeout_seconds * 1000, ...(options.signal ? { signal: options.signal } : {}) });
    return { reply };
  },
});
