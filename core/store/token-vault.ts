/**
 * OAuth tokens at rest: AES-256-GCM with a random 96-bit IV, the tenant and installation bound in
 * as associated data (a ciphertext copied to another tenant or installation does not open), and a
 * key id in the envelope so "wrong key" and "tampered" are told apart.
 *
 * Envelope: `v1.<key id>.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { TokenSet } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';

const version = 'v1';

export interface TokenOwner {
  readonly tenantId: string;
  readonly installationId: string;
}

/** A short, non-secret fingerprint of the key (first 8 bytes of its SHA-256). */
export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

function associatedData(owner: TokenOwner): Buffer {
  return Buffer.from(`ledgerline:installation-tokens:${version}:${owner.tenantId}:${owner.installationId}`);
}

function assertKey(key: Buffer): void {
  if (key.length !== 32) throw new LedgerlineError('LL_INVALID_CONFIG', 'the token encryption key must be 32 bytes', { details: { field: 'LEDGERLINE_ENCRYPTION_KEY' } });
}

const StoredTokenSet = z.strictObject({
  accessToken: z.string().min(1),
  refreshToken: z.string().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  scopes: z.array(z.string()),
  extra: z.record(z.string(), z.string()),
});

export function sealTokens(key: Buffer, owner: TokenOwner, tokens: TokenSet): string {
  assertKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(owner));
  const plaintext = JSON.stringify({ ...tokens, expiresAt: tokens.expiresAt ? tokens.expiresAt.toISOString() : null });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [version, keyId(key), iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function openTokens(key: Buffer, owner: TokenOwner, sealed: string): TokenSet {
  assertKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== version) {
    throw new LedgerlineError('LL_INTEGRITY', 'stored tokens are not a recognised envelope');
  }
  const [, storedKeyId, ivText, tagText, dataText] = parts as [string, string, string, string, string];
  if (storedKeyId !== keyId(key)) {
    throw new LedgerlineError('LL_INTEGRITY', `stored tokens were sealed with another key (${storedKeyId}); set the LEDGERLINE_ENCRYPTION_KEY they were written with`, {
      details: { field: 'LEDGERLINE_ENCRYPTION_KEY' },
    });
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== 12 || tag.length !== 16) throw new LedgerlineError('LL_INTEGRITY', 'stored tokens are malformed');
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(associatedData(owner));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new LedgerlineError('LL_INTEGRITY', 'stored tokens failed authentication: tampered, or sealed for another installation', { cause: error });
  }
  const parsed = StoredTokenSet.safeParse(JSON.parse(plaintext));
  if (!parsed.success) throw new LedgerlineError('LL_INTEGRITY', 'stored tokens decrypted to an unexpected shape');
  return { ...parsed.data, expiresAt: parsed.data.expiresAt ? new Date(parsed.data.expiresAt) : null };
}
