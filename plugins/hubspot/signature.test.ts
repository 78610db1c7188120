import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../core/contract/index.ts';
import { signatureV3, signedUri, verifyHubspotSignature } from './signature.ts';
import { signatureVersionsOf } from './settings.ts';

const secret = 'test-app-secret-not-real';
const now = new Date('2026-11-23T10:00:00Z');
const body = Buffer.from('[{"eventId":1}]');
const url = 'https://ledgerline.example/webhooks/hubspot';

function v3Request(overrides: Partial<InboundRequest> = {}, timestamp = now.getTime()): InboundRequest {
  return {
    method: 'POST',
    url,
    rawBody: body,
    headers: { 'x-hubspot-signature-v3': signatureV3(secret, 'POST', url, body, String(timestamp)), 'x-hubspot-request-timestamp': String(timestamp) },
    ...overrides,
  };
}

describe('HubSpot request signatures', () => {
  it('computes v3 as base64 HMAC-SHA256 over method, URI, body and timestamp', () => {
    const expected = createHmac('sha256', secret).update(`POST${url}${body.toString()}1795400000000`).digest('base64');
    expect(signatureV3(secret, 'post', url, body, '1795400000000')).toBe(expected);
  });

  it('decodes exactly the escapes HubSpot decodes before signing the URI', () => {
    expect(signedUri('https://x.example/p?a=%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%26')).toBe("https://x.example/p?a=:/?@!$'()*,;&b=%20%26");
  });

  it('accepts a fresh v3 signature and says so', () => {
    expect(verifyHubspotSignature(v3Request(), secret, now, new Set(['v3']))).toBe('v3');
  });

  it.each([
    ['older than five minutes', now.getTime() - 5 * 60_000 - 1],
    ['more than a minute in the future', now.getTime() + 61_000],
  ])('refuses a v3 timestamp %s', (_name, timestamp) => {
    expect(() => verifyHubspotSignature(v3Request({}, timestamp), secret, now, new Set(['v3']))).toThrow(/timestamp/);
  });

  it('refuses a v3 signature over another method', () => {
    expect(() => verifyHubspotSignature(v3Request({ method: 'PUT' }), secret, now, new Set(['v3']))).toThrow(/does not match/);
  });

  it('refuses a malformed timestamp header before computing anything', () => {
    const request = v3Request();
    expect(() => verifyHubspotSignature({ ...request, headers: { ...request.headers, 'x-hubspot-request-timestamp': '1e12' } }, secret, now, new Set(['v3']))).toThrow(/malformed/);
  });

  const v1 = (): InboundRequest => ({
    method: 'POST',
    url,
    rawBody: body,
    headers: { 'x-hubspot-signature-version': 'v1', 'x-hubspot-signature': createHash('sha256').update(secret).update(body).digest('hex') },
  });
  const v2 = (): InboundRequest => ({
    method: 'POST',
    url,
    rawBody: body,
    headers: { 'x-hubspot-signature-version': 'v2', 'x-hubspot-signature': createHash('sha256').update(`${secret}POST${url}`).update(body).digest('hex') },
  });

  it('refuses v1 and v2 unless the operator allowed them', () => {
    expect(() => verifyHubspotSignature(v1(), secret, now, signatureVersionsOf(undefined))).toThrow(/replayable/);
    expect(() => verifyHubspotSignature(v2(), secret, now, signatureVersionsOf('v3'))).toThrow(/replayable/);
  });

  it('accepts v1 and v2 when HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS lists them, and still checks them', () => {
    const allowed = signatureVersionsOf('v1, v2,v3');
    expect(verifyHubspotSignature(v1(), secret, now, allowed)).toBe('v1');
    expect(verifyHubspotSignature(v2(), secret, now, allowed)).toBe('v2');
    expect(() => verifyHubspotSignature({ ...v1(), rawBody: Buffer.from('[]') }, secret, now, allowed)).toThrow(/does not match/);
  });

  it('refuses an unknown signature version in the setting', () => {
    expect(() => signatureVersionsOf('v3,v4')).toThrow(/HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS/);
  });
});
