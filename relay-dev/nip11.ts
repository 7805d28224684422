/** NIP-11: the relay information document, served over HTTP on the WebSocket's own URL. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { limitationDocument } from './limits.js';
import type { Relay } from './relay.js';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
};

/** The information document for a relay. */
export function infoDocument(relay: Relay): Record<string, unknown> {
  const { name, description, pubkey, contact, software, version, supported_nips } = relay.info;
  return {
    name,
    description,
    ...(pubkey ? { pubkey } : {}),
    ...(contact ? { contact } : {}),
    supported_nips,
    software,
    version,
    limitation: {
      ...limitationDocument(relay.limits, relay.authMode === 'required'),
      // This relay's extension (named after strfry's setting): kinds a client must AUTH to read, so it can ask
      // for them in REQs of their own and not take an empty answer for an empty inbox.
      restricted_read_kinds: [...relay.privateKinds],
    },
  };
}

/** Answers a plain HTTP request: the NIP-11 document when asked for `application/nostr+json`, CORS preflight, or a hint. */
export function handleHttp(relay: Relay, req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...CORS, Allow: 'GET, HEAD, OPTIONS' }).end();
    return;
  }
  const metrics = relay.metrics;
  if (metrics && new URL(req.url ?? '/', 'http://relay').pathname === '/metrics') {
    metrics.text().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        relay.logger.log({ level: 'error', ns: 'relay', msg: 'metrics failed', error: String(error) });
        res.writeHead(500).end();
      },
    );
    return;
  }
  if ((req.headers.accept ?? '').includes('application/nostr+json')) {
    const body = JSON.stringify(infoDocument(relay));
    res.writeHead(200, { ...CORS, 'Content-Type': 'application/nostr+json', 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const body = `${relay.info.name}: a Nostr relay. Connect with a Nostr client over WebSocket; ask for application/nostr+json for NIP-11.\n`;
  res.writeHead(200, { ...CORS, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
