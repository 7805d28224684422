import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/protocol/hex.js';
import { nsecEncode } from '../../src/protocol/nip19.js';
import { redactText, redactValue, redactionMarker } from '../../src/trajectory/redact.js';
import { keys, MNEMONIC } from './fixtures.js';

const agentHex = bytesToHex(keys.agent.secretKey);
const nsec = nsecEncode(keys.agent.secretKey);
const MARK = /<redacted:sha256:[0-9a-f]{16}>/;
const PEM = ['-----BEGIN PRIVATE KEY-----', 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg', 'hRq3C5Yb0mZ9pZ3uX1PQ8kJ7eG0Lr4aB6Z8tY2sV1nChRANCAAR', '-----END PRIVATE KEY-----'].join('\n');

describe('redactText', () => {
  it.each([
    ['an nsec', `my key is ${nsec} ok`, nsec],
    ['an uppercase nsec', `NSEC: ${nsec.toUpperCase()}`, nsec.toUpperCase()],
    ['a 64-hex after "secret key"', `secret key: ${agentHex}`, agentHex],
    ['a 64-hex after "private_key="', `PRIVATE_KEY=${agentHex.toUpperCase()}`, agentHex.toUpperCase()],
    ['a 64-hex in JSON after "secretKey"', `{"secretKey":"${agentHex}"}`, agentHex],
    ['a 64-hex followed by "is my secret"', `${agentHex} is my secret`, agentHex],
    ['an sk- API key', 'OPENAI_API_KEY is sk-proj-Ab12Cd34Ef56Gh78Ij90Kl', 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl'],
    ['a bearer token', 'curl -H "Authorization: Bearer eyJhbGciOi.abc123.def456"', 'eyJhbGciOi.abc123.def456'],
    ['a basic auth header', 'Authorization: Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy'],
    ['a password assignment', 'login with password=hunter22!', 'hunter22!'],
    ['a GitHub token', 'token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'],
    ['a PEM block', `here:\n${PEM}\nthanks`, PEM],
    ['a PEM block cut off', `here:\n${PEM.split('\n').slice(0, 2).join('\n')}`, 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg'],
    ['a mnemonic', `backup: ${MNEMONIC}.`, MNEMONIC],
    ['a numbered mnemonic', MNEMONIC.split(' ').map((w, i) => `${i + 1}. ${w}`).join('\n'), 'leader'],
  ])('hides %s', (_name, text, secret) => {
    const out = redactText(text);
    expect(out.count).toBeGreaterThan(0);
    expect(out.text).not.toContain(secret);
    expect(out.text).toMatch(MARK);
    // Idempotent: a second pass finds nothing more.
    expect(redactText(out.text)).toEqual({ text: out.text, count: 0 });
  });

  it('marks a secret with a short hash of it, the same each time', () => {
    const out = redactText(`a ${nsec} b ${nsec}`);
    expect(out.text).toBe(`a ${redactionMarker(nsec)} b ${redactionMarker(nsec)}`);
    expect(out.count).toBe(2);
  });

  it.each([
    ['a pubkey', `pubkey: ${keys.agent.publicKey}`],
    ['a public key', `public key ${keys.agent.publicKey}`],
    ['an event id', `replied to event ${keys.peer.publicKey}`],
    ['a body hash', `text: sha256:${keys.peer.publicKey}`],
    ['an npub-like word', 'nsec is what you must never share'],
    ['sk- in prose', 'we use sk-learn and task-runner'],
    ['Bearer in prose', 'Bearer authentication is described in RFC 6750'],
    ['eleven mnemonic words', MNEMONIC.split(' ').slice(0, 11).join(' ')],
    ['ordinary text', 'remind me in 10 minutes to water the plants, key idea: patience'],
  ])('leaves %s alone', (_name, text) => {
    expect(redactText(text)).toEqual({ text, count: 0 });
  });

  it('hides exact known secrets and raw private keys of protected pubkeys', () => {
    const out = redactText(`llm=my-llm-key-123 raw ${agentHex} other ${keys.peer.publicKey}`, {
      knownSecrets: ['my-llm-key-123'],
      protectedPubkeys: [keys.agent.publicKey, keys.owner.publicKey],
    });
    expect(out.count).toBe(2);
    expect(out.text).not.toContain('my-llm-key-123');
    expect(out.text).not.toContain(agentHex);
    expect(out.text).toContain(keys.peer.publicKey);
  });

  it('hides a raw private key in every string of a value, and publicHex leaves only the listed strings untested', () => {
    const id = 'ab'.repeat(32);
    const input = { sent: [id], a: `raw ${agentHex}`, b: { c: `again ${agentHex.toUpperCase()}`, d: id } };
    const { value, count } = redactValue(input, { protectedPubkeys: [keys.agent.publicKey], publicHex: [id, keys.peer.publicKey] });
    expect(count).toBe(2);
    const json = JSON.stringify(value);
    expect(json.toLowerCase()).not.toContain(agentHex);
    expect(json).toContain(id);
    // Listing the agent's own secret as public is the caller's mistake to make; an unlisted one is still found.
    expect(redactText(`x ${agentHex}`, { protectedPubkeys: [keys.agent.publicKey], publicHex: [id] }).count).toBe(1);
  });
});

describe('redactValue', () => {
  it('hides values under secret names and uses member names as context', () => {
    const { value, count } = redactValue({
      tool: 'http_fetch',
      headers: { Authorization: 'Basic dXNlcjpodW50ZXIy', 'x-api-key': 'plain-looking' },
      config: { apiKey: 'abc', password: ['a1', 'b2'], publicKey: keys.agent.publicKey },
      state: { key: agentHex, note: `see ${nsec}` },
      count: 3,
    });
    expect(count).toBe(7);
    const json = JSON.stringify(value);
    for (const secret of ['dXNlcjpodW50ZXIy', 'plain-looking', '"abc"', '"a1"', '"b2"', agentHex, nsec]) expect(json).not.toContain(secret);
    expect(json).toContain(keys.agent.publicKey);
    expect(json).toContain('"count":3');
    expect(json).toContain('"tool":"http_fetch"');
  });
});
