import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLedgerlineError, type ErrorCode } from '../../core/errors/index.ts';
import { parseZendeskTimestamp, verifyZendeskWebhook, zendeskSignatureToleranceMs, zendeskWebhookSignature, type ZendeskWebhookVerification } from './signature.ts';

const secret = 'dGVzdC1zaWduaW5nLXNlY3JldC1ub3QtcmVhbA==';
const previousSecret = 'cHJldmlvdXMtc2lnbmluZy1zZWNyZXQtbm90LXJlYWw=';
const now = new Date('2026-11-23T10:00:00Z');
const timestamp = '2026-11-23T09:59:30Z';
const rawBody = Buffer.from('{"type":"zen:event-type:ticket.created","detail":{"id":"35436"}}');

function delivery(overrides: Partial<ZendeskWebhookVerification> = {}, signedWith = secret): ZendeskWebhookVerification {
  const ts = overrides.timestamp ?? timestamp;
  return { secret, signature: zendeskWebhookSignature(signedWith, ts, rawBody), timestamp: ts, rawBody, now, ...overrides };
}

/** Runs the check and returns the LedgerlineError it threw, so a test can assert code and message. */
function refusal(input: ZendeskWebhookVerification): { code: ErrorCode; message: string; field: string | undefined } {
  try {
    verifyZendeskWebhook(input);
  } catch (error) {
    if (isLedgerlineError(error)) return { code: error.code, message: error.message, field: error.details.field };
    throw error;
  }
  throw new Error('the delivery was accepted');
}

describe('Zendesk webhook signatures', () => {
  it('computes base64(HMAC-SHA256(secret, timestamp + body)) with the timestamp verbatim', () => {
    // Independently: the documented formula over the concatenated string.
    const expected = createHmac('sha256', secret).update(`${timestamp}${rawBody.toString('utf8')}`).digest('base64');
    expect(zendeskWebhookSignature(secret, timestamp, rawBody)).toBe(expected);
    // A fixed vector, so a change to the formula cannot pass by changing both sides.
    expect(zendeskWebhookSignature('secret', '2021-03-18T23:30:58Z', '{"a":1}')).toBe(createHmac('sha256', 'secret').update('2021-03-18T23:30:58Z{"a":1}').digest('base64'));
    // printf 'tb' | openssl dgst -sha256 -hmac k -binary | base64
    expect(zendeskWebhookSignature('k', 't', 'b')).toBe('eg1ema4MZIlIPAW7dCtH9PHHb3gy+gBIH6GUpkF93iI=');
  });

  it('accepts a fresh delivery signed with the current secret, and one without a body', () => {
    expect(verifyZendeskWebhook(delivery())).toEqual({ signedAt: new Date(timestamp), secretIndex: 0 });
    const empty = { ...delivery(), rawBody: Buffer.alloc(0), signature: zendeskWebhookSignature(secret, timestamp, '') };
    expect(verifyZendeskWebhook(empty).secretIndex).toBe(0);
  });

  it('accepts the previous secret during a rotation and says it was the previous one', () => {
    expect(verifyZendeskWebhook(delivery({ secret: [secret, previousSecret] }, previousSecret)).secretIndex).toBe(1);
    expect(verifyZendeskWebhook(delivery({ secret: [secret, previousSecret] }, secret)).secretIndex).toBe(0);
    expect(refusal(delivery({ secret: [secret] }, previousSecret)).code).toBe('LL_BAD_SIGNATURE');
  });

  it.each([
    ['a tampered body', { rawBody: Buffer.from('{"type":"zen:event-type:ticket.created","detail":{"id":"35437"}}') }],
    ['a wrong secret', { secret: 'another-secret' }],
    ['a signature of another length', { signature: 'AAAA' }],
    ['an empty-looking signature of the right length', { signature: Buffer.alloc(32).toString('base64') }],
  ])('refuses %s as not matching, without the expected value', (_name, overrides) => {
    const { code, message, field } = refusal({ ...delivery(), ...overrides });
    expect(code).toBe('LL_BAD_SIGNATURE');
    expect(message).toMatch(/does not match/);
    expect(field).toBe('x-zendesk-webhook-signature');
    expect(message).not.toContain(zendeskWebhookSignature(secret, timestamp, rawBody));
  });

  it('refuses a tampered timestamp: the signature covers it verbatim', () => {
    const signed = delivery();
    // Same instant, other spelling: still not what was signed.
    expect(refusal({ ...signed, timestamp: '2026-11-23T09:59:30.000Z' }).message).toMatch(/does not match/);
    expect(refusal({ ...signed, timestamp: '2026-11-23T09:59:31Z' }).message).toMatch(/does not match/);
  });

  it.each([
    ['stale', new Date(now.getTime() - zendeskSignatureToleranceMs - 1000), /s old/],
    ['from the future', new Date(now.getTime() + zendeskSignatureToleranceMs + 1000), /in the future/],
  ])('refuses a %s timestamp even when correctly signed', (_name, at, pattern) => {
    const { code, message } = refusal(delivery({ timestamp: at.toISOString() }));
    expect(code).toBe('LL_BAD_SIGNATURE');
    expect(message).toMatch(pattern);
  });

  it('takes the window from toleranceMs, inclusive at its edge', () => {
    const edge = new Date(now.getTime() - zendeskSignatureToleranceMs).toISOString();
    expect(verifyZendeskWebhook(delivery({ timestamp: edge })).secretIndex).toBe(0);
    expect(refusal(delivery({ timestamp: edge, toleranceMs: 60_000 })).message).toMatch(/allowed: 60 s/);
  });

  it.each([
    ['signature', { signature: undefined }, 'x-zendesk-webhook-signature'],
    ['signature (empty)', { signature: '' }, 'x-zendesk-webhook-signature'],
    ['timestamp', { timestamp: undefined }, 'x-zendesk-webhook-signature-timestamp'],
  ])('refuses a delivery missing its %s header', (_name, overrides, header) => {
    const { code, message, field } = refusal({ ...delivery(), ...overrides });
    expect(code).toBe('LL_BAD_SIGNATURE');
    expect(message).toMatch(/missing/);
    expect(field).toBe(header);
  });

  it.each(['not base64!', 'YWJj=', 'YW Jj', 'YWJjZA'])('refuses a signature that is not base64 (%j) as malformed', (signature) => {
    const { code, field } = refusal({ ...delivery(), signature });
    expect(code).toBe('LL_INVALID_INPUT');
    expect(field).toBe('x-zendesk-webhook-signature');
  });

  it.each(['1795400000', '2026-11-23 09:59:30Z', '2026-11-23T09:59:30', '2026-02-30T09:59:30Z', '2026-11-23T24:00:00Z', 'yesterday'])(
    'refuses an unparseable timestamp (%j) as malformed',
    (ts) => {
      const { code, field } = refusal({ ...delivery(), timestamp: ts, signature: zendeskWebhookSignature(secret, ts, rawBody) });
      expect(code).toBe('LL_INVALID_INPUT');
      expect(field).toBe('x-zendesk-webhook-signature-timestamp');
    },
  );

  it('reads ISO-8601 with fractions and offsets', () => {
    expect(parseZendeskTimestamp('2026-11-23T11:59:30.250+02:00')?.toISOString()).toBe('2026-11-23T09:59:30.250Z');
    expect(parseZendeskTimestamp('2026-11-23T09:59:30+25:00')).toBeUndefined();
  });

  it('refuses to run without a secret rather than verifying against an empty one', () => {
    expect(refusal(delivery({ secret: [] })).code).toBe('LL_INVALID_CONFIG');
    expect(refusal(delivery({ secret: '' })).code).toBe('LL_INVALID_CONFIG');
  });
});
