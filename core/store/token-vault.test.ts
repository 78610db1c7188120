import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TokenSet } from '../contract/index.ts';
import { isLedgerlineError } from '../errors/index.ts';
import { keyId, openTokens, sealTokens } from './token-vault.ts';

const key = randomBytes(32);
const owner = { tenantId: '7b0f6c1e-0000-4000-8000-000000000001', installationId: '7b0f6c1e-0000-4000-8000-000000000002' };
const tokens: TokenSet = {
  accessToken: 'access-abc',
  refreshToken: 'refresh-def',
  expiresAt: new Date('2026-11-22T12:30:00.000Z'),
  scopes: ['crm.objects.contacts.read', 'tickets'],
  extra: { instance_url: 'https://example.my.salesforce.com' },
};

function integrityError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isLedgerlineError(error, 'LL_INTEGRITY')) return error.message;
    throw error;
  }
  throw new Error('expected LL_INTEGRITY');
}

/** Flips one bit of the base64url part at `index` of the envelope. */
function tamper(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('token vault', () => {
  it('round-trips a token set, and the envelope holds no token in the clear', () => {
    const sealed = sealTokens(key, owner, tokens);
    expect(sealed).not.toContain('access-abc');
    expect(sealed).not.toContain('refresh-def');
    expect(sealed.split('.')[1]).toBe(keyId(key));
    expect(openTokens(key, owner, sealed)).toEqual(tokens);
  });

  it('uses a fresh IV every time', () => {
    expect(sealTokens(key, owner, tokens)).not.toBe(sealTokens(key, owner, tokens));
  });

  it.each([
    ['iv', 2],
    ['tag', 3],
    ['ciphertext', 4],
  ])('rejects a tampered %s', (_part, index) => {
    const sealed = sealTokens(key, owner, tokens);
    expect(integrityError(() => openTokens(key, owner, tamper(sealed, index)))).toMatch(/tampered|malformed/);
  });

  it('rejects a ciphertext moved to another tenant or installation', () => {
    const sealed = sealTokens(key, owner, tokens);
    expect(integrityError(() => openTokens(key, { ...owner, tenantId: '7b0f6c1e-0000-4000-8000-000000000009' }, sealed))).toMatch(/another installation/);
    expect(integrityError(() => openTokens(key, { ...owner, installationId: '7b0f6c1e-0000-4000-8000-000000000009' }, sealed))).toMatch(/another installation/);
  });

  it('names the key problem when opened with another key', () => {
    const sealed = sealTokens(key, owner, tokens);
    expect(integrityError(() => openTokens(randomBytes(32), owner, sealed))).toMatch(/sealed with another key/);
  });

  it('rejects envelopes that are not ours', () => {
    expect(integrityError(() => openTokens(key, owner, 'plain-text-token'))).toMatch(/not a recognised envelope/);
    expect(integrityError(() => openTokens(key, owner, `v1.${keyId(key)}.AAAA.AAAA.AAAA`))).toMatch(/malformed/);
  });
});
