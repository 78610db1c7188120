/**
 * Erasure (GDPR art. 17, CCPA deletion) of one person: the record named and every other record of
 * its resolved profile. In one transaction:
 * - each record's data key is destroyed (`subject_key.wrapped_key` set to NULL, a key created
 *   already destroyed where none existed), so the personal fields sealed under it — in the activity
 *   rows and in the ledger's activity entries alike — can never be opened again, while every hashed
 *   byte of the ledger stays as it was and the chain still verifies;
 * - the records' platform payloads and canonical copies are replaced by `{"erased": true}` (and
 *   stay so when the platform sends them again), the profile's name and email are cleared, summary
 *   snapshots showing the records are deleted, and the
 *   identifier values in identity evidence and notification texts are blanked, review items that
 *   name the records are removed;
 * - one `privacy.erased` entry is appended: which records, how many keys, who asked — no personal data.
 */
import { randomUUID } from 'node:crypto';
import { appendEntries } from '../ledger/ledger.ts';
import { erasedText } from '../privacy/index.ts';
import { contentHash, erasedPayload, type SqlSession } from '../store/index.ts';
import { subjectRecords } from './subject-export.ts';

export interface ErasureResult {
  readonly subject: string;
  readonly records: readonly string[];
  /** Data keys destroyed now (records that had activities sealed under a key). */
  readonly keysDestroyed: number;
  /** Activities stored before sealing existed, whose clear text an erasure cannot reach. */
  readonly unsealedActivities: number;
  readonly ledgerSeq: number;
}

export async function eraseSubject(sql: SqlSession, tenantId: string, key: string, by: string, now: Date = new Date()): Promise<ErasureResult> {
  return sql.transaction(async (tx) => {
    const { members } = await subjectRecords(tx, tenantId, key);
    const arrays = [members.map((m) => m.installation_id), members.map((m) => m.object_type), members.map((m) => m.external_id)];
    const keys = members.map((m) => `${m.installation_id}/${m.object_type}/${m.external_id}`);
    const at = now.toISOString();

    const [live] = await tx.query<{ n: string }>(
      `select count(*)::text as n from subject_key k join unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
          on k.installation_id = m.installation_id and k.object_type = m.object_type and k.external_id = m.external_id
        where k.tenant_id = $1 and k.wrapped_key is not null`,
      [tenantId, ...arrays],
    );
    await tx.query(
      `insert into subject_key (id, tenant_id, installation_id, object_type, external_id, wrapped_key, erased_at, erased_by)
       select u.id, $1, u.installation_id, u.object_type, u.external_id, null, $6, $7
         from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) as u(id, installation_id, object_type, external_id)
       on conflict (tenant_id, installation_id, object_type, external_id) do update
          set wrapped_key = null, erased_at = coalesce(subject_key.erased_at, excluded.erased_at), erased_by = coalesce(subject_key.erased_by, excluded.erased_by)`,
      [tenantId, members.map(() => randomUUID()), ...arrays, at, by],
    );
    await tx.query(
      `update source_record r set payload = $5::jsonb, canonical = null, content_hash = $6, last_changed_at = clock_timestamp()
         from unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
        where r.tenant_id = $1 and r.installation_id = m.installation_id and r.object_type = m.object_type and r.external_id = m.external_id`,
      [tenantId, ...arrays, JSON.stringify(erasedPayload), contentHash(erasedPayload)],
    );
    await tx.query(
      `update person set display_name = null, primary_email = null, updated_at = now()
        where tenant_id = $1 and id in (select profile_id from identity_member where tenant_id = $1 and installation_id || '/' || object_type || '/' || external_id = any($2::text[]))`,
      [tenantId, keys],
    );
    // The identifier that joined a record sits in its evidence and in the evidence of whoever it joined.
    await tx.query(
      `update identity_member set evidence = jsonb_set(evidence, '{value}', to_jsonb($3::text))
        where tenant_id = $1 and evidence is not null
          and (installation_id || '/' || object_type || '/' || external_id = any($2::text[]) or evidence ->> 'with' = any($2::text[]))`,
      [tenantId, keys, erasedText],
    );
    // Summary snapshots that show any of the records go at once (their texts are sealed under the
    // keys just destroyed; the name and figures they keep go with them).
    await tx.query(`delete from summary_snapshot where tenant_id = $1 and tokens && $2::text[]`, [tenantId, keys]);
    // Review items naming the person go (their value is the person's identifier); a resolution
    // re-derives whatever still needs review from the records that remain.
    await tx.query(`delete from identity_review where tenant_id = $1 and records ?| $2::text[]`, [tenantId, keys]);
    await tx.query(
      `update notification n set message = $5, updated_at = now()
         from unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
        where n.tenant_id = $1 and n.subject ->> 'installationId' = m.installation_id::text and n.subject ->> 'objectType' = m.object_type
          and n.subject ->> 'externalId' = m.external_id`,
      [tenantId, ...arrays, erasedText],
    );
    const [unsealed] = await tx.query<{ n: string }>(
      `select count(*)::text as n from activity a join unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
          on a.installation_id = m.installation_id and a.subject_object_type = m.object_type and a.subject_external_id = m.external_id
        where a.tenant_id = $1 and a.personal is null and a.summary is not null`,
      [tenantId, ...arrays],
    );
    const keysDestroyed = Number(live!.n);
    const unsealedActivities = Number(unsealed!.n);
    const [entry] = await appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'privacy.erased', body: { subject: key, records: keys, keysDestroyed, unsealedActivities, by } }], now);
    return { subject: key, records: keys, keysDestroyed, unsealedActivities, ledgerSeq: entry!.seq };
  });
}
