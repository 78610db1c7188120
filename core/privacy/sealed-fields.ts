/**
 * An activity's personal fields, sealed under its subject's key with AES-256-GCM. The envelope is
 * bound (as associated data) to the tenant, the key and the activity's source identity, so a sealed
 * value copied onto another activity does not open.
 *
 * Envelope: `p1.<subject key id>.<iv>.<tag>.<ciphertext>`, the binary parts base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import { erasedText, type PersonalFields } from './personal-fields.ts';

const version = 'p1';

/** Which activity a sealed value belongs to. */
export interface SealBinding {
  readonly tenantId: string;
  readonly installationId: string;
  readonly sourceObjectType: string;
  readonly sourceExternalId: string;
  readonly discriminator: string;
}

const SealedPayload = z.strictObject({
  summary: z.string(),
  actor: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
});

function aad(keyId: string, b: SealBinding): Buffer {
  return Buffer.from(JSON.stringify([version, b.tenantId, keyId, b.installationId, b.sourceObjectType, b.sourceExternalId, b.discriminator]));
}

export function sealPersonalFields(keyId: string, key: Buffer, binding: SealBinding, fields: PersonalFields): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(keyId, binding));
  const data = Buffer.concat([cipher.update(JSON.stringify({ summary: fields.summary, actor: fields.actor, attributes: fields.attributes }), 'utf8'), cipher.final()]);
  return [version, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
}

/** The subject key id a sealed value names, or throws when it is not an envelope. */
export function sealedKeyId(sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== version || !parts[1]) throw new LedgerlineError('LL_INTEGRITY', 'sealed personal fields are not a recognised envelope');
  return parts[1];
}

export function openPersonalFields(key: Buffer | KeyObject, binding: SealBinding, sealed: string): PersonalFields {
  const keyId = sealedKeyId(sealed);
  const [, , iv, tag, data] = sealed.split('.') as [string, string, string, string, string];
  let plain: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(aad(keyId, binding));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new LedgerlineError('LL_INTEGRITY', `sealed personal fields of ${binding.sourceObjectType} ${binding.sourceExternalId} failed authentication`, { cause: error });
  }
  const parsed = SealedPayload.safeParse(JSON.parse(plain));
  if (!parsed.success) throw new LedgerlineError('LL_INTEGRITY', 'sealed personal fields decrypted to an unexpected shape');
  return parsed.data;
}

/** What readers show for a subject whose key was destroyed. */
export const erasedFields = (clear: Readonly<Record<string, unknown>>): PersonalFields => ({ summary: erasedText, actor: null, attributes: clear });
