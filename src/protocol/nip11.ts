/** NIP-11 relay information document: the limits a client must respect when subscribing. */
import { z } from 'zod';

const positive = z.number().int().positive().optional().catch(undefined);

/** The `limitation` fields this project reads; anything malformed is ignored, never fatal. */
export const RelayLimitationSchema = z
  .object({
    max_message_length: positive,
    max_subscriptions: positive,
    max_filters: positive,
    max_limit: positive,
    max_subid_length: positive,
    auth_required: z.boolean().optional().catch(undefined),
    /** Kinds the relay serves only after NIP-42 AUTH (relay-dev's extension, named after strfry's `restrictedReadKinds`). */
    restricted_read_kinds: z.array(z.number().int().nonnegative()).max(1000).optional().catch(undefined),
  })
  .catch({});

/** The parts of a relay information document we use. */
export const RelayInfoSchema = z.object({
  name: z.string().optional().catch(undefined),
  supported_nips: z.array(z.number()).optional().catch(undefined),
  limitation: RelayLimitationSchema.optional(),
});
export type RelayInfo = z.infer<typeof RelayInfoSchema>;
export type RelayLimitation = z.infer<typeof RelayLimitationSchema>;

/** The HTTP(S) URL a relay serves its information document at (same host, `Accept: application/nostr+json`). */
export function relayInfoUrl(relayUrl: string): string {
  return relayUrl.replace(/^ws(s?):\/\//, 'http$1://');
}
