/**
 * HubSpot request signatures (https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests).
 * v3, on webhooks and on `hubspot.fetch` calls from app cards: X-HubSpot-Signature-v3 =
 * base64(HMAC-SHA256(client secret, method + URI + body + timestamp)), with
 * X-HubSpot-Request-Timestamp in milliseconds; requests older than 5 minutes are refused. v1 and
 * v2 are unkeyed-in-time SHA-256 digests and replayable forever, so they are accepted only where
 * HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS says so. Every comparison is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundRequest } from '../../core/contract/index.ts';
import { LedgerlineError } from '../../core/errors/index.ts';
import type { SignatureVersion } from './settings.ts';

export const signatureWindowMs = 5 * 60 * 1000;

/**
 * HubSpot signs the URI with these percent-escapes decoded, and only these (its docs list them);
 * anything else stays encoded.
 */
const decodedEscapes: Readonly<Record<string, string>> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export function signedUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => decodedEscapes[m.toUpperCase()] ?? m);
}

export function signatureV3(secret: string, method: string, url: string, body: Buffer | string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${signedUri(url)}`)
    .update(body)
    .update(timestamp)
    .digest('base64');
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual needs equal lengths; comparing lengths leaks only the length of a public format.
  return a.length === b.length && timingSafeEqual(a, b);
}

const bad = (message: string): LedgerlineError => new LedgerlineError('LL_BAD_SIGNATURE', `hubspot: ${message}`);

function verifyV3(request: InboundRequest, secret: string, now: Date): void {
  const signature = request.headers['x-hubspot-signature-v3'];
  const timestamp = request.headers['x-hubspot-request-timestamp'];
  if (!signature) throw bad('missing X-HubSpot-Signature-v3');
  if (!timestamp || !/^\d{1,15}$/.test(timestamp)) throw bad('missing or malformed X-HubSpot-Request-Timestamp');
  const age = now.getTime() - Number(timestamp);
  // A small allowance for clocks running ahead of ours; anything beyond is as suspect as a stale one.
  if (age > signatureWindowMs || age < -60_000) throw bad(`request timestamp is ${Math.round(age / 1000)} s old (window ${signatureWindowMs / 1000} s)`);
  const expected = Buffer.from(signatureV3(secret, request.method, request.url, request.rawBody, timestamp), 'base64');
  const given = Buffer.from(signature, 'base64');
  if (!sameBytes(expected, given)) throw bad('X-HubSpot-Signature-v3 does not match');
}

function verifyDigest(request: InboundRequest, secret: string, version: 'v1' | 'v2'): void {
  const signature = request.headers['x-hubspot-signature'];
  if (!signature || !/^[0-9a-f]{64}$/i.test(signature)) throw bad('missing or malformed X-HubSpot-Signature');
  const hash = createHash('sha256').update(secret);
  if (version === 'v2') hash.update(`${request.method.toUpperCase()}${request.url}`);
  const expected = hash.update(request.rawBody).digest();
  if (!sameBytes(expected, Buffer.from(signature, 'hex'))) throw bad(`X-HubSpot-Signature (${version}) does not match`);
}

/**
 * Verifies a request HubSpot signed. v3 is used whenever present; an older version only when the
 * request carries no v3 and the operator allowed that version.
 */
export function verifyHubspotSignature(request: InboundRequest, secret: string, now: Date, allowed: ReadonlySet<SignatureVersion>): SignatureVersion {
  if (request.headers['x-hubspot-signature-v3'] !== undefined) {
    if (!allowed.has('v3')) throw bad('signature v3 is not accepted by this configuration');
    verifyV3(request, secret, now);
    return 'v3';
  }
  const version = (request.headers['x-hubspot-signature-version'] ?? '').toLowerCase();
  if (version !== 'v1' && version !== 'v2') throw bad('no X-HubSpot-Signature-v3 on the request');
  if (!allowed.has(version)) throw bad(`signature ${version} is refused (replayable; set HUBSPOT_WEBHOOK_SIGNATURE_VERSIONS to accept it)`);
  verifyDigest(request, secret, version);
  return version;
}
