/**
 * Reads back the personal fields of stored activities: one key lookup per call for every subject
 * involved, then a local decrypt per row. Rows written before sealing existed carry their fields in
 * the clear columns and are returned as they are; rows of an erased subject read as `[erased]`.
 */
import type { SqlExecutor } from '../store/bulk-ingest.ts';
import { type PersonalFields } from './personal-fields.ts';
import { erasedFields, openPersonalFields, sealedKeyId, type SealBinding } from './sealed-fields.ts';
import type { SubjectKeyring } from './subject-keyring.ts';

export interface StoredActivityFields {
  readonly installationId: string;
  readonly sourceObjectType: string;
  readonly sourceExternalId: string;
  readonly discriminator: string;
  /** The sealed envelope, or null (written before sealing, or while the subject was erased). */
  readonly personal: string | null;
  readonly summary: string | null;
  readonly actor: string | null;
  /** The clear attributes (personal keys removed on sealed rows). */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export async function openActivityFields(exec: SqlExecutor, keyring: SubjectKeyring, tenantId: string, rows: readonly StoredActivityFields[]): Promise<PersonalFields[]> {
  const sealedIds = rows.flatMap((r) => (r.personal ? [sealedKeyId(r.personal)] : []));
  const keys = await keyring.keysById(exec, tenantId, sealedIds);
  return rows.map((row) => {
    if (row.personal === null) return row.summary === null ? erasedFields(row.attributes) : { summary: row.summary, actor: row.actor, attributes: row.attributes };
    const key = keys.get(sealedKeyId(row.personal));
    if (!key) return erasedFields(row.attributes);
    const binding: SealBinding = { tenantId, installationId: row.installationId, sourceObjectType: row.sourceObjectType, sourceExternalId: row.sourceExternalId, discriminator: row.discriminator };
    return openPersonalFields(key, binding, row.personal);
  });
}
