/**
 * A tick event (kind 9230, regular: relays keep every one) from a TickRecord and its place in the
 * chain. Private content is NIP-44 encrypted by the agent to the owner: only those two keys can read it.
 */
import type { EventTemplate } from '../protocol/event.js';
import { Kind } from '../protocol/kinds.js';
import type { Signer } from '../signer/types.js';
import { chainTags, type ChainLink } from './chain.js';
import { serializeContent, tickContent, type ContentOptions } from './content.js';
import type { TickContent } from './schema.js';
import type { TickRecord } from './types.js';

/** Everything a tick event needs besides the record and its link. */
export interface TickFormatOptions extends ContentOptions {
  /** The agent's signer: encrypts private content (and later signs). */
  signer: Pick<Signer, 'nip44'>;
  /** Who can read private content. */
  ownerPubkey: string;
}

/** The tick event template, the content it carries (before encryption) and how many secrets were redacted. */
export interface FormattedTick {
  template: EventTemplate;
  content: TickContent;
  redactions: number;
}

/** Builds a tick's event template: tags `a`, `seq`, `prev`, `e` (trigger event), `visibility`. */
export function tickTemplate(record: TickRecord, link: ChainLink, session: string, options: TickFormatOptions): FormattedTick {
  if (link.seq !== record.seq) throw new Error(`tick seq ${record.seq} does not match its chain link seq ${link.seq}`);
  const { content, redactions } = tickContent(record, options);
  const json = serializeContent(content);
  const tags = [['a', session], ...chainTags(link)];
  if (content.trigger.eventId) tags.push(['e', content.trigger.eventId]);
  tags.push(['visibility', options.visibility]);
  return {
    template: {
      kind: Kind.TrajectoryTick,
      created_at: Math.floor(record.endedAt / 1000),
      tags,
      content: options.visibility === 'private' ? options.signer.nip44.encrypt(options.ownerPubkey, json) : json,
    },
    content,
    redactions,
  };
}
