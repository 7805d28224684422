/**
 * Webhook signatures: `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the
 * hook's secret as printed (its ASCII text, as GitHub does), so any sender can sign with
 * `openssl dgst -sha256 -hmac "$SECRET"`. Compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEADER = /^sha256=([0-9a-f]{64})$/i;

/** The header value for `body` signed with `secret`. */
export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The hex digest a well-formed header carries (lowercase), or undefined. */
export function signatureDigest(header: string | undefined): string | undefined {
  const m = header === undefined ? null : HEADER.exec(header.trim());
  return m ? m[1]!.toLowerCase() : undefined;
}

/** True when `header` is the signature of `body` under `secret`. */
export function verifySignature(secret: string, body: Uint8Array, header: string | undefined): boolean {
  const given = signatureDigest(header);
  if (given === undefined) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}
