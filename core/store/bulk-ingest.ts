/**
 * The set-based ingest path: one `INSERT ... SELECT FROM unnest(...)` per table per batch, inside
 * the caller's transaction (so a sync commits records and checkpoint together). Source records are
 * upserted, skipping unchanged content (by hash) and refusing payloads older than what is stored;
 * activities are appended idempotently by (installation, source, discriminator).
 */
import { createHash } from 'node:crypto';
import { LedgerlineError } from '../errors/index.ts';
import { appendEntries, type LedgerEntryInput } from '../ledger/ledger.ts';
import type { ActivityRecord, SourceRecordInput } from '../model/index.ts';
import { clearAttributes } from '../privacy/personal-fields.ts';
import { sealPersonalFields } from '../privacy/sealed-fields.ts';
import { subjectKeyOf, type SubjectKeyring } from '../privacy/subject-keyring.ts';

export type SqlExecutor = (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>;

export interface IngestSourceRecord extends SourceRecordInput {
  /** The canonical records mapped from this payload, kept next to it. */
  readonly canonical?: unknown;
}

export interface IngestBatch {
  readonly tenantId: string;
  readonly installationId: string;
  readonly sourceRecords: readonly IngestSourceRecord[];
  readonly activities: readonly ActivityRecord[];
  /** Seals each activity's personal fields under its subject's key (see core/privacy). */
  readonly keyring: SubjectKeyring;
}

export interface IngestResult {
  readonly inserted: number;
  readonly updated: number;
  /** Same content as stored: nothing written. */
  readonly unchanged: number;
  /** Older than what is stored (or a same-instant loser): refused, nothing written. */
  readonly stale: number;
  /** Records newly marked deleted. */
  readonly deleted: number;
  readonly activitiesAppended: number;
  readonly activitiesDuplicate: number;
}

/** JSON with object keys sorted, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function contentHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

const time = (d: Date | null | undefined): number => (d ? d.getTime() : Number.NEGATIVE_INFINITY);

/** One row per key: the newest by platform time; on a tie, the higher `tie` (same rule as the SQL). */
function newestPerKey<T>(rows: readonly T[], key: (row: T) => string, at: (row: T) => Date | null | undefined, tie: (row: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const row of rows) {
    const k = key(row);
    const seen = byKey.get(k);
    const wins =
      !seen || time(at(row)) > time(at(seen)) || (time(at(row)) === time(at(seen)) && tie(row) > tie(seen));
    if (wins) byKey.set(k, row);
  }
  return [...byKey.values()];
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

interface HashedRecord extends IngestSourceRecord {
  readonly hash: string;
}

/**
 * One statement: the upsert runs in a CTE, and the outer select classifies every input row against
 * the rows as they were before it (a statement's CTEs and main query share one snapshot).
 */
async function upsertLive(exec: SqlExecutor, batch: IngestBatch, rows: readonly HashedRecord[]) {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0, stale: 0 };
  const [counts] = await exec(
    `with input as (
       select * from unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[], $8::jsonb[])
         as u(object_type, external_id, updated_at, hash, payload, canonical)
     ), written as (
       insert into source_record as s (tenant_id, installation_id, object_type, external_id, platform_updated_at, content_hash, payload, canonical)
       select $1::uuid, $2::uuid, i.object_type, i.external_id, i.updated_at, i.hash, i.payload, i.canonical from input i
       on conflict (installation_id, object_type, external_id) do update
          set platform_updated_at = excluded.platform_updated_at, content_hash = excluded.content_hash,
              payload = excluded.payload, canonical = excluded.canonical,
              -- A payload newer than the deletion brings the record back; an older one only fills in
              -- what the record looked like before it was deleted.
              deleted_at = case when s.deleted_at is not null and excluded.platform_updated_at > s.deleted_at then null
                                else s.deleted_at end,
              last_changed_at = clock_timestamp()
        where s.tenant_id = excluded.tenant_id
          -- Older never beats newer; at the same instant the higher hash wins, so any arrival order
          -- converges on the same row.
          and (s.platform_updated_at is null or excluded.platform_updated_at is null
               or excluded.platform_updated_at > s.platform_updated_at
               or (excluded.platform_updated_at = s.platform_updated_at and excluded.content_hash > s.content_hash))
          and (s.content_hash is distinct from excluded.content_hash
               or (s.deleted_at is not null and excluded.platform_updated_at > s.deleted_at))
       returning s.object_type, s.external_id, (xmax = 0) as inserted
     )
     select count(*) filter (where w.inserted) as inserted,
            count(*) filter (where not w.inserted) as updated,
            count(*) filter (where w.external_id is null and before.content_hash = i.hash) as unchanged,
            count(*) filter (where w.external_id is null and before.content_hash is distinct from i.hash) as stale
       from input i
       left join written w on w.object_type = i.object_type and w.external_id = i.external_id
       left join source_record before
              on before.installation_id = $2::uuid and before.object_type = i.object_type and before.external_id = i.external_id`,
    [
      batch.tenantId,
      batch.installationId,
      rows.map((r) => r.objectType),
      rows.map((r) => r.externalId),
      rows.map((r) => iso(r.updatedAt)),
      rows.map((r) => r.hash),
      rows.map((r) => JSON.stringify(r.payload)),
      rows.map((r) => (r.canonical === undefined ? null : JSON.stringify(r.canonical))),
    ],
  );
  // count(*) is a bigint: the driver hands it over as a string.
  return {
    inserted: Number(counts?.inserted ?? 0),
    updated: Number(counts?.updated ?? 0),
    unchanged: Number(counts?.unchanged ?? 0),
    stale: Number(counts?.stale ?? 0),
  };
}

/**
 * Deletions mark the row and keep its last payload. The latest deletion wins; a deletion older than
 * the stored payload lost to a later change. A deletion of a record never seen leaves a tombstone
 * that an older payload may still fill in.
 */
async function markDeleted(exec: SqlExecutor, batch: IngestBatch, rows: readonly IngestSourceRecord[]) {
  if (rows.length === 0) return { deleted: 0 };
  const result = await exec(
    `insert into source_record as s (tenant_id, installation_id, object_type, external_id, platform_updated_at, content_hash, payload, deleted_at)
     select $1::uuid, $2::uuid, u.object_type, u.external_id, null, $6, '{}'::jsonb, u.deleted_at
       from unnest($3::text[], $4::text[], $5::timestamptz[]) as u(object_type, external_id, deleted_at)
     on conflict (installation_id, object_type, external_id) do update
        set deleted_at = excluded.deleted_at, last_changed_at = clock_timestamp()
      where s.tenant_id = excluded.tenant_id
        and (s.deleted_at is null or excluded.deleted_at > s.deleted_at)
        and (s.platform_updated_at is null or s.platform_updated_at <= excluded.deleted_at)
     returning 1`,
    [
      batch.tenantId,
      batch.installationId,
      rows.map((r) => r.objectType),
      rows.map((r) => r.externalId),
      rows.map((r) => iso(r.deletedAt)),
      contentHash({}),
    ],
  );
  return { deleted: result.length };
}

export interface StoredActivity {
  readonly activity: ActivityRecord;
  /** The sealed personal fields, or null when the subject has been erased (nothing personal is kept). */
  readonly personal: string | null;
  readonly clear: Record<string, unknown>;
}

/** Seals each activity's personal fields under its subject's key, creating keys for new subjects. */
async function sealActivities(exec: SqlExecutor, batch: IngestBatch): Promise<StoredActivity[]> {
  const subjectOf = (a: ActivityRecord) => ({ installationId: batch.installationId, objectType: a.subject.objectType, externalId: a.subject.externalId });
  const keys = await batch.keyring.keysForWrite(exec, batch.tenantId, batch.activities.map(subjectOf));
  return batch.activities.map((a) => {
    const key = keys.get(subjectKeyOf(subjectOf(a)));
    if (!key) throw new LedgerlineError('LL_INTEGRITY', `no key was created for subject ${a.subject.objectType} ${a.subject.externalId}`);
    const clear = clearAttributes(a.attributes);
    if (key.key === null) return { activity: a, personal: null, clear };
    const binding = { tenantId: batch.tenantId, installationId: batch.installationId, sourceObjectType: a.source.objectType, sourceExternalId: a.source.externalId, discriminator: a.discriminator };
    return { activity: a, personal: sealPersonalFields(key.id, key.key, binding, { summary: a.summary, actor: a.actor ?? null, attributes: a.attributes }), clear };
  });
}

async function appendActivities(exec: SqlExecutor, batch: IngestBatch): Promise<number> {
  if (batch.activities.length === 0) return 0;
  const rows = await sealActivities(exec, batch);
  const col = <T>(pick: (a: ActivityRecord) => T): T[] => rows.map((r) => pick(r.activity));
  // summary and actor stay NULL in the clear columns: they live only inside `personal`.
  const result = await exec(
    `insert into activity (tenant_id, installation_id, kind, category, occurred_at, subject_kind, subject_object_type,
                           subject_external_id, driver_type, driver_object_type, driver_external_id, source_object_type,
                           source_external_id, discriminator, amount, currency, attributes, personal)
     select $1::uuid, $2::uuid, u.*
       from unnest($3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                   $11::text[], $12::text[], $13::text[], $14::text[], $15::numeric[], $16::text[], $17::jsonb[], $18::text[])
         as u(kind, category, occurred_at, subject_kind, subject_object_type, subject_external_id, driver_type,
              driver_object_type, driver_external_id, source_object_type, source_external_id, discriminator, amount,
              currency, attributes, personal)
     on conflict (installation_id, source_object_type, source_external_id, discriminator) do nothing
     returning id::text as id, source_object_type, source_external_id, discriminator`,
    [
      batch.tenantId,
      batch.installationId,
      col((a) => a.kind),
      col((a) => a.category),
      col((a) => a.occurredAt.toISOString()),
      col((a) => a.subject.kind),
      col((a) => a.subject.objectType),
      col((a) => a.subject.externalId),
      col((a) => a.driver?.type ?? null),
      col((a) => a.driver?.objectType ?? null),
      col((a) => a.driver?.externalId ?? null),
      col((a) => a.source.objectType),
      col((a) => a.source.externalId),
      col((a) => a.discriminator),
      col((a) => a.amount?.value ?? null),
      col((a) => a.amount?.currency ?? null),
      rows.map((r) => JSON.stringify(r.clear)),
      rows.map((r) => r.personal),
    ],
  );
  if (result.length === 0) return 0;
  // Every activity newly stored is also appended to the tenant's ledger, in this transaction.
  const key = (objectType: unknown, externalId: unknown, discriminator: unknown): string => `${String(objectType)}\u0000${String(externalId)}\u0000${String(discriminator)}`;
  const appended = new Map(result.map((r) => [key(r.source_object_type, r.source_external_id, r.discriminator), String(r.id)]));
  const entries: LedgerEntryInput[] = [];
  for (const r of rows) {
    const a = r.activity;
    const k = key(a.source.objectType, a.source.externalId, a.discriminator);
    const id = appended.get(k);
    if (id === undefined) continue;
    appended.delete(k);
    entries.push({ kind: 'activity', body: activityLedgerBody(batch.installationId, id, r) });
  }
  await appendEntries(exec, batch.tenantId, entries);
  return result.length;
}

/**
 * What the ledger holds of an activity: every structural fact in the clear, and the personal fields
 * only sealed (the same envelope as the stored row), so an erasure makes them unreadable without
 * touching a hashed byte.
 */
export function activityLedgerBody(installationId: string, activityId: string, stored: StoredActivity): Record<string, unknown> {
  const a = stored.activity;
  return {
    activityId,
    installationId,
    kind: a.kind,
    category: a.category,
    occurredAt: a.occurredAt.toISOString(),
    subject: { kind: a.subject.kind, objectType: a.subject.objectType, externalId: a.subject.externalId },
    driver: a.driver ? { type: a.driver.type, objectType: a.driver.objectType, externalId: a.driver.externalId } : null,
    source: { objectType: a.source.objectType, externalId: a.source.externalId },
    discriminator: a.discriminator,
    amount: a.amount ? { value: a.amount.value, currency: a.amount.currency } : null,
    attributes: stored.clear,
    personal: stored.personal,
  };
}

/** Ingesting into another tenant's installation is a caller bug; refuse it before writing anything. */
async function assertInstallationOfTenant(exec: SqlExecutor, batch: IngestBatch): Promise<void> {
  const found = await exec(`select 1 from installation where id = $1::uuid and tenant_id = $2::uuid`, [batch.installationId, batch.tenantId]);
  if (found.length === 0) {
    throw new LedgerlineError('LL_NOT_FOUND', `installation ${batch.installationId} does not belong to tenant ${batch.tenantId}`, {
      details: { field: 'installationId' },
    });
  }
}

/** What an erased subject's source record holds from then on, however often the platform sends it again. */
export const erasedPayload: Readonly<Record<string, unknown>> = Object.freeze({ erased: true });

/** The batch's records whose subject has been erased (see core/privacy/erasure.ts). */
async function erasedRecords(exec: SqlExecutor, batch: IngestBatch): Promise<Set<string>> {
  const live = batch.sourceRecords.filter((r) => !r.deletedAt);
  if (live.length === 0) return new Set();
  const rows = await exec(
    `select k.object_type, k.external_id from subject_key k
       join unnest($3::text[], $4::text[]) as u(object_type, external_id) on k.object_type = u.object_type and k.external_id = u.external_id
      where k.tenant_id = $1::uuid and k.installation_id = $2::uuid and k.wrapped_key is null`,
    [batch.tenantId, batch.installationId, live.map((r) => r.objectType), live.map((r) => r.externalId)],
  );
  return new Set(rows.map((r) => `${String(r.object_type)}\u0000${String(r.external_id)}`));
}

/**
 * Writes one batch with set-based statements, in whatever transaction `exec` runs in. Every live
 * source record is counted once: the older copies of a key repeated in the batch count as stale
 * (or unchanged, when identical to the copy that is written).
 */
export async function ingestBatch(exec: SqlExecutor, batch: IngestBatch): Promise<IngestResult> {
  if (batch.sourceRecords.length === 0 && batch.activities.length === 0) {
    return { inserted: 0, updated: 0, unchanged: 0, stale: 0, deleted: 0, activitiesAppended: 0, activitiesDuplicate: 0 };
  }
  await assertInstallationOfTenant(exec, batch);
  const key = (r: IngestSourceRecord): string => `${r.objectType}\u0000${r.externalId}`;
  const erased = await erasedRecords(exec, batch);
  const hashed = batch.sourceRecords
    .filter((r) => !r.deletedAt)
    .map((r) => (erased.has(key(r)) ? { ...r, payload: erasedPayload, canonical: null } : r))
    .map((r): HashedRecord => ({ ...r, hash: contentHash(r.payload) }));
  const live = newestPerKey(hashed, key, (r) => r.updatedAt, (r) => r.hash);
  const gone = newestPerKey(
    batch.sourceRecords.filter((r) => r.deletedAt),
    key,
    (r) => r.deletedAt,
    () => '',
  );
  const winners = new Map(live.map((r) => [key(r), r]));
  const losers = hashed.filter((r) => winners.get(key(r)) !== r);
  const identicalLosers = losers.filter((r) => winners.get(key(r))?.hash === r.hash).length;

  const written = await upsertLive(exec, batch, live);
  const { deleted } = await markDeleted(exec, batch, gone);
  const appended = await appendActivities(exec, batch);
  return {
    inserted: written.inserted,
    updated: written.updated,
    unchanged: written.unchanged + identicalLosers,
    stale: written.stale + losers.length - identicalLosers,
    deleted,
    activitiesAppended: appended,
    activitiesDuplicate: batch.activities.length - appended,
  };
}
