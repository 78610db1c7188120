/**
 * Data-subject export: everything Ledgerline holds about one person — their resolved profile, every
 * source record of it (the platforms' payloads), their activities, the ledger entries about them,
 * notifications and identity review items that name them. The export itself is recorded on the
 * ledger (who asked, which records), as any access to personal data should be.
 */
import { LedgerlineError } from '../errors/index.ts';
import { appendEntries } from '../ledger/ledger.ts';
import { openActivityFields, storedActivityFields, type SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from '../store/sql-session.ts';

export interface SubjectExport {
  readonly generatedAt: string;
  readonly tenantId: string;
  readonly subject: string;
  readonly profile: { id: string; kind: string; anchor: string } | null;
  readonly records: Record<string, unknown>[];
  readonly activities: Record<string, unknown>[];
  readonly ledger: Record<string, unknown>[];
  readonly notifications: Record<string, unknown>[];
  readonly reviews: Record<string, unknown>[];
}

export interface SubjectRecords {
  readonly key: string;
  readonly profile: { id: string; kind: string; anchor: string } | null;
  /** The record and every other member of its resolved profile. */
  readonly members: readonly { installation_id: string; object_type: string; external_id: string }[];
}

/** The record `<installationId>/<objectType>/<externalId>` and the other records of its profile. */
export async function subjectRecords(sql: Pick<SqlSession, 'query'>, tenantId: string, key: string): Promise<SubjectRecords> {
  const [installationId, objectType, ...rest] = key.split('/');
  const externalId = rest.join('/');
  if (!installationId || !objectType || !externalId) throw new LedgerlineError('LL_INVALID_INPUT', `give the record as <installationId>/<objectType>/<externalId>, not '${key}'`, { details: { field: 'record' } });
  const [own] = await sql.query<{ profile_id: string | null; kind: string | null; anchor: string | null }>(
    `select m.profile_id, m.kind, m.anchor from source_record r
       left join identity_member m on m.tenant_id = r.tenant_id and m.installation_id = r.installation_id and m.object_type = r.object_type and m.external_id = r.external_id
      where r.tenant_id = $1 and r.installation_id::text = $2 and r.object_type = $3 and r.external_id = $4`,
    [tenantId, installationId, objectType, externalId],
  );
  if (!own) throw new LedgerlineError('LL_NOT_FOUND', `no synced record ${key} in this tenant`, { details: { field: 'record' } });
  const members = own.profile_id
    ? await sql.query<{ installation_id: string; object_type: string; external_id: string }>(
        `select installation_id::text as installation_id, object_type, external_id from identity_member where tenant_id = $1 and profile_id = $2 order by 1, 2, 3`,
        [tenantId, own.profile_id],
      )
    : [{ installation_id: installationId, object_type: objectType, external_id: externalId }];
  return { key, profile: own.profile_id ? { id: own.profile_id, kind: own.kind!, anchor: own.anchor! } : null, members };
}

export async function exportSubject(sql: SqlSession, keyring: SubjectKeyring, tenantId: string, key: string, by: string, now: Date = new Date()): Promise<SubjectExport> {
  const { members, profile } = await subjectRecords(sql, tenantId, key);
  const arrays = [members.map((m) => m.installation_id), members.map((m) => m.object_type), members.map((m) => m.external_id)];
  const join = (alias: string, inst: string, type: string, id: string) =>
    `join unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id) on ${alias}.${inst} = m.installation_id and ${alias}.${type} = m.object_type and ${alias}.${id} = m.external_id`;
  const records = await sql.query(
    `select r.installation_id, i.platform, r.object_type, r.external_id, r.payload, r.canonical, r.first_seen_at, r.last_changed_at, r.deleted_at
       from source_record r ${join('r', 'installation_id', 'object_type', 'external_id')} join installation i on i.id = r.installation_id
      where r.tenant_id = $1 order by r.installation_id, r.object_type, r.external_id`,
    [tenantId, ...arrays],
  );
  const stored = await sql.query<{ id: string; installation_id: string; kind: string; category: string; occurred_at: string; summary: string | null; actor: string | null; personal: string | null; attributes: Record<string, unknown>; amount: string | null; currency: string | null; source_object_type: string; source_external_id: string; discriminator: string; driver_type: string | null; driver_external_id: string | null }>(
    `select a.id::text as id, a.installation_id::text as installation_id, a.kind, a.category, a.occurred_at, a.summary, a.actor, a.personal, a.attributes, a.amount::text as amount, a.currency,
            a.source_object_type, a.source_external_id, a.discriminator, a.driver_type, a.driver_external_id
       from activity a ${join('a', 'installation_id', 'subject_object_type', 'subject_external_id')}
      where a.tenant_id = $1 order by a.occurred_at, a.id`,
    [tenantId, ...arrays],
  );
  // The export holds the personal fields opened (or `[erased]` where the subject was erased).
  const opened = await openActivityFields((text, values) => sql.query(text, values), keyring, tenantId, stored.map(storedActivityFields));
  const activities = stored.map(({ personal: _sealed, summary: _summary, actor: _actor, attributes: _clear, ...a }, i) => ({ ...a, ...opened[i]! }));
  const ledger = await sql.query(
    `select e.seq::text as seq, e.kind, e.recorded_at, e.body, encode(e.hash, 'hex') as hash from ledger_entry e
       join unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
         on e.body -> 'subject' ->> 'objectType' = m.object_type and e.body -> 'subject' ->> 'externalId' = m.external_id
        and coalesce(e.body ->> 'installationId', e.body -> 'subject' ->> 'installationId') = m.installation_id::text
      where e.tenant_id = $1 order by e.seq`,
    [tenantId, ...arrays],
  );
  const notifications = await sql.query(
    `select n.id, n.status, n.message, n.channel - 'secret' as channel, n.created_at, n.acknowledged_at, n.acknowledged_by from notification n
       join unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
         on n.subject ->> 'installationId' = m.installation_id::text and n.subject ->> 'objectType' = m.object_type and n.subject ->> 'externalId' = m.external_id
      where n.tenant_id = $1 order by n.created_at`,
    [tenantId, ...arrays],
  );
  const keys = members.map((m) => `${m.installation_id}/${m.object_type}/${m.external_id}`);
  const reviews = await sql.query(`select kind, rule, value, records, reason, first_seen_at from identity_review where tenant_id = $1 and records ?| $2::text[]`, [tenantId, keys]);
  await sql.transaction((tx) => appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'privacy.exported', body: { subject: key, records: keys, by } }], now));
  return {
    generatedAt: now.toISOString(),
    tenantId,
    subject: key,
    profile,
    records,
    activities,
    ledger,
    notifications,
    reviews,
  };
}
