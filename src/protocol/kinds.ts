/** Event kinds this project uses, and NIP-01's kind ranges. */
export const Kind = {
  Metadata: 0,
  TextNote: 1,
  Contacts: 3,
  EncryptedDirectMessage: 4,
  Deletion: 5,
  Seal: 13,
  ChatMessage: 14,
  FileMessage: 15,
  GiftWrap: 1059,
  TrajectoryTick: 9230, // regular: relays keep every tick (unassigned in the NIPs kind table; see docs/trajectory.md)
  RelayList: 10002,
  DmRelayList: 10050,
  AgentList: 14199,
  ClientAuth: 22242,
  TrajectorySession: 39230, // addressable: one per agent per UTC day (d = YYYY-MM-DD)
} as const;

/** Replaceable: 0, 3 and 10000–19999 (one per pubkey+kind). */
export function isReplaceableKind(kind: number): boolean {
  return kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000);
}

/** Ephemeral: 20000–29999 (delivered live, never stored). */
export function isEphemeralKind(kind: number): boolean {
  return kind >= 20000 && kind < 30000;
}

/** Addressable: 30000–39999 (one per pubkey+kind+d tag). */
export function isAddressableKind(kind: number): boolean {
  return kind >= 30000 && kind < 40000;
}

/** Regular: everything else; relays keep every one. */
export function isRegularKind(kind: number): boolean {
  return !isReplaceableKind(kind) && !isEphemeralKind(kind) && !isAddressableKind(kind);
}
