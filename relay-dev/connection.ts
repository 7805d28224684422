/**
 * One client connection: its socket, NIP-42 state, open subscriptions, and the NIP-01 messages it is sent.
 * Sends are dropped once the socket is closing; a client that stops reading is cut off, not buffered forever.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { Filter } from '../src/protocol/filter.js';
import { encodeTextFrames } from './frames.js';
import type { ConnectionInfo } from './types.js';

/** Told about the answers a connection sends (the relay's onOk / onClosed hooks). */
export interface AnswerObserver {
  ok(accepted: boolean, message: string): void;
  closed(message: string): void;
}

/** An open REQ: its filters, plus the NIP-50 terms of each filter (undefined when it has no search). */
export interface Subscription {
  id: string;
  filters: Filter[];
  terms: Array<string[] | undefined>;
}

/** A client that lets more than this pile up unsent is disconnected. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** Pause reading a socket with this many EVENTs in the pipeline; resume below RESUME_AT. */
const PAUSE_AT = 1000;
const RESUME_AT = 100;

let nextConnectionId = 1;

/** Connections corked by the current withCorkedSends() call; undefined outside one. */
let corking: Set<Connection> | undefined;

/**
 * Runs `fn` with sends batched: the frames each connection is sent are held and written at the end as
 * one buffer, so a batch of OKs (or a REQ's stored events and EOSE) goes out in one write instead of
 * two chunks per frame.
 */
export function withCorkedSends<T>(fn: () => T): T {
  if (corking) return fn();
  const corked = new Set<Connection>();
  corking = corked;
  try {
    return fn();
  } finally {
    corking = undefined;
    for (const conn of corked) conn.flushHeld();
  }
}

/** A connected client. */
export class Connection implements ConnectionInfo {
  readonly id = nextConnectionId++;
  readonly authed = new Set<string>();
  readonly subs = new Map<string, Subscription>();
  /** A fresh NIP-42 challenge, valid for the life of the connection. */
  readonly challenge = randomBytes(16).toString('hex');
  /** True once the challenge went out (on connect, or on demand). */
  challenged = false;
  /**
   * On-demand AUTH (strfry's habit): no challenge on connect; the first `auth-required:` refusal is
   * preceded by it, so the client has a challenge to answer when it reads the refusal.
   */
  challengeOnDemand = false;
  private pending = 0;
  private paused = false;
  /** Frames held by withCorkedSends, written by flushHeld. */
  private held: string[] = [];

  constructor(
    private readonly ws: WebSocket,
    /** The peer address. */
    readonly ip: string,
    /** The Host header of the upgrade request (NIP-42 `relay` tags are checked against it). */
    readonly host: string,
    /** The TCP socket under `ws`, corked while a batch of frames is written (see withCorkedSends). */
    readonly socket?: Duplex,
    private readonly answers?: AnswerObserver,
  ) {}

  /** True while the socket can still be written. */
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one prepared JSON text frame. */
  send(text: string): void {
    if (!this.open) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.ws.close(1008, 'slow consumer: too much unread data');
      return;
    }
    if (corking && this.socket) {
      corking.add(this);
      this.held.push(text);
      return;
    }
    this.ws.send(text);
  }

  /**
   * Writes the held frames straight to the socket, encoded here: the server never negotiates
   * permessage-deflate, so ws's sender keeps no queue of its own and writes to this socket in order.
   * Dropped if the socket stopped being open meanwhile (no data frame may follow a close frame).
   */
  flushHeld(): void {
    const frames = this.held;
    this.held = [];
    if (frames.length === 0 || !this.open || !this.socket) return;
    if (frames.length === 1) return void this.ws.send(frames[0]!);
    this.socket.write(encodeTextFrames(frames));
  }

  /** `["OK", id, accepted, message]`. */
  ok(id: string, accepted: boolean, message: string): void {
    if (!accepted) this.challengeIfRefusedForAuth(message);
    this.send(JSON.stringify(['OK', id, accepted, message]));
    this.answers?.ok(accepted, message);
  }

  /** `["EVENT", subId, event]` from the stored JSON, without re-serializing it. */
  event(subId: string, raw: string): void {
    this.send(`["EVENT",${JSON.stringify(subId)},${raw}]`);
  }

  /** `["EOSE", subId]`. */
  eose(subId: string): void {
    this.send(JSON.stringify(['EOSE', subId]));
  }

  /** `["CLOSED", subId, message]`, and forgets the subscription. */
  closed(subId: string, message: string): void {
    this.subs.delete(subId);
    this.challengeIfRefusedForAuth(message);
    this.send(JSON.stringify(['CLOSED', subId, message]));
    this.answers?.closed(message);
  }

  /** `["NOTICE", message]`. */
  notice(message: string): void {
    this.send(JSON.stringify(['NOTICE', message]));
  }

  /** `["AUTH", challenge]` (once per connection). */
  sendChallenge(): void {
    if (this.challenged) return;
    this.challenged = true;
    this.send(JSON.stringify(['AUTH', this.challenge]));
  }

  private challengeIfRefusedForAuth(message: string): void {
    if (this.challengeOnDemand && message.startsWith('auth-required:')) this.sendChallenge();
  }

  /** Closes the socket with a reason. */
  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** Counts an EVENT entering the pipeline; reading pauses when too many are in flight. */
  enter(): void {
    this.pending++;
    if (!this.paused && this.pending >= PAUSE_AT) {
      this.paused = true;
      this.ws.pause();
    }
  }

  /** Counts an EVENT leaving the pipeline. */
  leave(): void {
    this.pending--;
    if (this.paused && this.pending <= RESUME_AT) {
      this.paused = false;
      this.ws.resume();
    }
  }
}
