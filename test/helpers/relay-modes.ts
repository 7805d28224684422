/**
 * The NIP-42 habits relay-dev can play (docs/relay-dev.md), as one list the messaging tests are
 * parameterised over: every client path must work against each.
 */
import type { RelayOptions } from '../../relay-dev/index.js';

/** One relay behaviour: a short name for test titles and the relay-dev options that play it. */
export interface RelayMode {
  name: string;
  options: RelayOptions;
}

/** Every behaviour, strictest combinations included. */
export const RELAY_MODES: readonly RelayMode[] = [
  // relay-dev's default: challenge on connect, REQs naming kinds 4/1059 refused until AUTH, many keys per connection.
  { name: 'auth on-connect', options: {} },
  // No challenge until something needs AUTH (strfry's habit), but otherwise relay-dev's rules.
  { name: 'auth on-demand', options: { auth: 'on-demand' } },
  // strfry as deployed: on-demand challenge, restricted kinds withheld from mixed REQs, one key per connection.
  { name: 'strfry', options: { auth: 'on-demand', withhold: 'mixed', authKeysPerConnection: 1 } },
  // AUTH before anything: every REQ, COUNT and EVENT refused until then.
  { name: 'auth required', options: { auth: 'required' } },
  // Never refuses a read: restricted kinds silently left out until AUTH (an empty EOSE is no proof of an empty inbox).
  { name: 'withhold all', options: { withhold: 'all' } },
  // No NIP-42 at all: nothing to authenticate, everything served.
  { name: 'auth off', options: { auth: 'off' } },
];

/** The mode with this name (throws on a typo, so a test never silently runs the default). */
export function relayMode(name: string): RelayMode {
  const mode = RELAY_MODES.find((m) => m.name === name);
  if (!mode) throw new Error(`no relay mode named "${name}"`);
  return mode;
}
