/**
 * Reads back the personal fields of stored activities: one key lookup per call for every subject
 * involved, then a local decrypt per row. Rows written before sealing existed carry their fields in
 * the clear columns and are returned as they are; rows of an erased subject read as `[erased]`.
 */
import type { SqlExecutor } from '../store/bulk-ingest.ts';
import { type PersonalFields } from './personal-fields.ts';
import { erasedFields, openPersonalFields, sealedKeyId, type SealBinding } from './sealed-fields.ts';
import type { SubjectKeyring, WrappedSubjectKey } from './subject-keyring.ts';

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

/** An activity row as SQL reads its columns (`select a.installation_id, a.personal, …`). */
export interface StoredActivityRow {
  readonly installation_id: string;
  readonly source_object_type: string;
  readonly source_external_id: string;
  readonly discriminator: string;
  readonly personal: string | null;
  readonly summary: string | null;
  readonly actor: string | null;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** The columns the personal fields of a stored activity are read back from. */
export const storedActivityFields = (row: StoredActivityRow): StoredActivityFields => ({
  installationId: row.installation_id,
  sourceObjectType: row.source_object_type,
  sourceExternalId: row.source_external_id,
  discriminator: row.discriminator,
  personal: row.personal,
  summary: row.summary,
  actor: row.actor,
  attributes: row.attributes,
});

/**
 * `prefetched`: wrapped keys the caller read in the same statement as the rows (`subject_key` rows
 * with `wrapped_key` not null); only keys missing from it are looked up.
 */
export async function openActivityFields(
  exec: SqlExecutor,
  keyring: SubjectKeyring,
  tenantId: string,
  rows: readonly StoredActivityFields[],
  prefetched: readonly WrappedSubjectKey[] = [],
): Promise<PersonalFields[]> {
  const keys = keyring.unwrapAll(tenantId, prefetched);
  const missing = rows.flatMap((r) => (r.personal && !keys.has(sealedKeyId(r.personal)) ? [sealedKeyId(r.personal)] : []));
  for (const [id, key] of await keyring.keysById(exec, tenantId, missing)) keys.set(id, key);
  return rows.map((row) => {
    if (row.personal === null) return row.summary === null ? erasedFields(row.attributes) : { summary: row.summary, actor: row.actor, attributes: row.attributes };
    const key = keys.get(sealedKeyId(row.personal));
    if (!key) return erasedFields(row.attributes);
    const binding: SealBinding = { tenantId, installationId: row.installationId, sourceObjectType: row.sourceObjectType, sourceExternalId: row.sourceExternalId, discriminator: row.discriminator };
    return openPersonalFields(key, binding, row.personal);
  });
}
