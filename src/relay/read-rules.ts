/**
 * What one relay wants before it answers a read, learned from its NIP-11 document and from what it
 * refused. Restricted kinds (4 and 1059 always, plus any the relay lists) travel in REQs of their own:
 * strfry refuses a REQ whose filters all name restricted kinds (`CLOSED auth-required:`, which starts
 * the NIP-42 flow) but silently withholds those kinds from a REQ that mixes them with public ones.
 */
import type { Filter } from '../protocol/filter.js';
import { Kind } from '../protocol/kinds.js';
import type { RelayInfo } from '../protocol/nip11.js';

/** Kinds every relay is assumed to serve only after AUTH (NIP-04 DMs and NIP-59 gift wraps). */
export const DEFAULT_RESTRICTED_KINDS: readonly number[] = [Kind.EncryptedDirectMessage, Kind.GiftWrap];

/** One wire REQ's worth of filters; `gated` ones may need AUTH before the relay answers them fully. */
export interface ReqPart {
  filters: Filter[];
  gated: boolean;
}

/** A relay's read restrictions; flags only ever go from false to true (a relay's habits do not relax mid-run). */
export class ReadRules {
  readonly restricted = new Set<number>(DEFAULT_RESTRICTED_KINDS);
  /** The relay restricts some reads: its NIP-11 says so, or it refused a REQ with `auth-required:`. */
  readsNeedAuth = false;
  /** Every read needs AUTH: NIP-11 `auth_required`, or a REQ of public kinds refused with `auth-required:`. */
  allNeedAuth = false;
  /** The relay refused an EVENT with `auth-required:` (publishes then wait for AUTH under way). */
  writesNeedAuth = false;

  /** The relay has said (NIP-11) or shown (a refusal) that it wants AUTH: only then are challenges answered. */
  get wantsAuth(): boolean {
    return this.readsNeedAuth || this.writesNeedAuth;
  }

  /** Takes in what the NIP-11 document says. */
  learnInfo(info: RelayInfo | undefined): void {
    const limitation = info?.limitation;
    for (const kind of limitation?.restricted_read_kinds ?? []) this.restricted.add(kind);
    if ((limitation?.restricted_read_kinds?.length ?? 0) > 0) this.readsNeedAuth = true;
    if (limitation?.auth_required) this.readsNeedAuth = this.allNeedAuth = this.writesNeedAuth = true;
  }

  /** A REQ was refused with `auth-required:`; `gated` says whether it asked for restricted kinds only. */
  learnRefusedRead(gated: boolean): void {
    this.readsNeedAuth = true;
    if (!gated) this.allNeedAuth = true;
  }

  /**
   * Splits filters into at most two REQs: the restricted kinds, and the rest. A filter naming both is cut in
   * two (same conditions, each with its share of `kinds`); a filter without `kinds` goes with the rest.
   * When every read needs AUTH, all of it is one gated REQ.
   */
  split(filters: Filter[]): ReqPart[] {
    if (this.allNeedAuth) return filters.length > 0 ? [{ filters, gated: true }] : [];
    const restricted: Filter[] = [];
    const open: Filter[] = [];
    for (const filter of filters) {
      const kinds = filter.kinds;
      if (!kinds || kinds.length === 0) {
        open.push(filter);
        continue;
      }
      const mine = kinds.filter((k) => this.restricted.has(k));
      const theirs = kinds.filter((k) => !this.restricted.has(k));
      if (mine.length > 0) restricted.push(theirs.length > 0 ? { ...filter, kinds: mine } : filter);
      if (theirs.length > 0) open.push(mine.length > 0 ? { ...filter, kinds: theirs } : filter);
    }
    const parts: ReqPart[] = [];
    if (open.length > 0) parts.push({ filters: open, gated: false });
    if (restricted.length > 0) parts.push({ filters: restricted, gated: true });
    return parts;
  }
}
