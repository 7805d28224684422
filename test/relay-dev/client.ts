/** A plain WebSocket test client: sends raw frames and waits for the relay messages it expects. */
import WebSocket from 'ws';

export type Message = [string, ...unknown[]];

/** A connected raw client; every received message is kept in `messages`. */
export class RawClient {
  readonly messages: Message[] = [];
  /** Every message in arrival order, consumed or not (to assert what came before what). */
  readonly received: Message[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  closedWith: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.received.push(JSON.parse(data.toString('utf8')) as Message);
      this.messages.push(JSON.parse(data.toString('utf8')) as Message);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closedWith = { code, reason: reason.toString() };
      this.wake();
    });
  }

  /** Connects and (unless `challenge: false`, for relays that send none on connect) waits for the AUTH challenge. */
  static async connect(url: string, options: { challenge?: boolean } = {}): Promise<RawClient> {
    const ws = new WebSocket(url);
    const client = new RawClient(ws); // listening before open: the challenge may arrive with the handshake
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (options.challenge !== false) client.challenge = String((await client.next((m) => m[0] === 'AUTH'))[1]);
    return client;
  }

  /** The challenge the relay sent on connect. */
  challenge = '';

  /** Sends a message (an array is JSON-encoded, a string is sent as is). */
  send(message: unknown[] | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next not-yet-consumed message matching `match` (earlier non-matching ones stay unconsumed). */
  async next(match: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let i = this.cursor; i < this.messages.length; i++) {
        const m = this.messages[i]!;
        if (match(m)) {
          this.messages.splice(i, 1);
          return m;
        }
      }
      if (this.closedWith) throw new Error(`socket closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; unconsumed: ${JSON.stringify(this.messages.slice(0, 5)).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Publishes and returns the OK `[accepted, message]`. */
  async publish(event: { id: string }): Promise<[boolean, string]> {
    this.send(['EVENT', event]);
    const ok = await this.next((m) => m[0] === 'OK' && m[1] === event.id);
    return [ok[2] as boolean, ok[3] as string];
  }

  /** Sends a REQ and collects stored events until EOSE; returns them, or the CLOSED message. */
  async req(subId: string, ...filters: object[]): Promise<{ events: Array<Record<string, unknown>>; closed?: string }> {
    this.send(['REQ', subId, ...filters]);
    const events: Array<Record<string, unknown>> = [];
    for (;;) {
      const m = await this.next((x) => (x[0] === 'EVENT' || x[0] === 'EOSE' || x[0] === 'CLOSED') && x[1] === subId);
      if (m[0] === 'EVENT') events.push(m[2] as Record<string, unknown>);
      else if (m[0] === 'CLOSED') return { events, closed: m[2] as string };
      else return { events };
    }
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close();
    await done;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
