/** The words for "no daemon": shared by `agent chat` (before any UI loads) and the UI's banner. */

/** What to tell the owner when the control API does not answer; `retrying` when the UI reconnects by itself. */
export function daemonDownLines(home?: string, options: { retrying?: boolean } = {}): [string, string] {
  return [
    `The agent daemon is not running${home ? ` for ${home}` : ''} (nothing answers on its control API).`,
    `Start it in another terminal with \`agent up\` (or \`agent run\` against your relays)${
      options.retrying ? '; this screen reconnects by itself.' : ', then run `agent chat` again.'
    }`,
  ];
}
