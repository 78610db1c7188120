/**
 * Writes one prepared page inside the caller's transaction: source records and activities through
 * the store's set-based bulk path, deletions as tombstones plus a ledger-visible activity, and
 * rejected records with their reason. Never a silent disappearance.
 */
import type { DeletedRecord, AnyStream } from '../contract/index.ts';
import type { ActivityRecord, MappedRecords, SourceRecordInput, SubjectRef } from '../model/index.ts';
import type { SubjectKeyring } from '../privacy/index.ts';
import { ingestBatch } from '../store/index.ts';
import type { PreparedPage } from './record-pipeline.ts';
import type { SqlSession } from '../store/sql-session.ts';
import type { PageCounts, PageWriter } from './stream-runner.ts';
import type { StreamKey } from './sync-state.ts';

/** Whom a deleted source object was about, from what we stored of it. */
function subjectOf(stream: AnyStream, externalId: string, canonical: MappedRecords | null): SubjectRef | null {
  const person = canonical?.persons[0];
  if (person) return { kind: 'person', objectType: person.source.objectType, externalId: person.source.externalId };
  const account = canonical?.accounts[0];
  if (account) return { kind: 'account', objectType: account.source.objectType, externalId: account.source.externalId };
  const activity = canonical?.activities[0];
  if (activity) return activity.subject;
  if (stream.produces.includes('person')) return { kind: 'person', objectType: stream.objectType, externalId };
  if (stream.produces.includes('account')) return { kind: 'account', objectType: stream.objectType, externalId };
  return null;
}

function deletionActivity(stream: AnyStream, deleted: DeletedRecord, subject: SubjectRef): ActivityRecord {
  const merged = deleted.mergedInto !== undefined;
  return {
    kind: 'profile_change',
    category: merged ? 'merged' : 'deleted',
    occurredAt: deleted.deletedAt,
    subject,
    driver: null,
    source: { objectType: stream.objectType, externalId: deleted.externalId },
    // One deletion activity per deletion instant: replays are idempotent, a later re-deletion is new.
    discriminator: `${merged ? 'merged' : 'deleted'}:${deleted.deletedAt.toISOString()}`,
    amount: null,
    summary: merged
      ? `${stream.objectType} ${deleted.externalId} was merged into ${deleted.mergedInto}`
      : `${stream.objectType} ${deleted.externalId} was deleted on the platform`,
    actor: null,
    attributes: merged ? { mergedInto: deleted.mergedInto } : {},
  };
}

async function storedCanonical(tx: SqlSession, key: StreamKey, objectType: string, ids: readonly string[]): Promise<Map<string, MappedRecords | null>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<{ external_id: string; canonical: MappedRecords | null }>(
    `select external_id, canonical from source_record
      where tenant_id = $1 and installation_id = $2 and object_type = $3 and external_id = any($4::text[])`,
    [key.tenantId, key.installationId, objectType, ids],
  );
  return new Map(rows.map((r) => [r.external_id, r.canonical]));
}

/** The page writer of a process, sealing activities' personal fields with its keyring. */
export const pageWriter = (keyring: SubjectKeyring): PageWriter => async (tx, key, stream, page: PreparedPage): Promise<PageCounts> => {
  const known = await storedCanonical(
    tx,
    key,
    stream.objectType,
    page.deleted.map((d) => d.externalId),
  );
  const tombstones: SourceRecordInput[] = [];
  const deletionActivities: ActivityRecord[] = [];
  for (const deleted of page.deleted) {
    tombstones.push({
      objectType: stream.objectType,
      externalId: deleted.externalId,
      updatedAt: deleted.deletedAt,
      payload: {},
      deletedAt: deleted.deletedAt,
    });
    const subject = subjectOf(stream, deleted.externalId, known.get(deleted.externalId) ?? null);
    if (subject) deletionActivities.push(deletionActivity(stream, deleted, subject));
  }
  const result = await ingestBatch((sql, params) => tx.query(sql, params), {
    tenantId: key.tenantId,
    installationId: key.installationId,
    sourceRecords: [...page.records.map((r) => ({ ...r.source, canonical: r.mapped })), ...tombstones],
    activities: [...page.activities, ...deletionActivities],
    keyring,
  });
  if (page.rejected.length > 0) {
    await tx.query(
      `insert into sync_reject (tenant_id, installation_id, stream, external_id, problem, message, payload)
       select $1, $2, $3, r.external_id, r.problem, r.message, r.payload
         from unnest($4::text[], $5::text[], $6::text[], $7::jsonb[]) as r(external_id, problem, message, payload)`,
      [
        key.tenantId,
        key.installationId,
        stream.name,
        page.rejected.map((r) => r.externalId),
        page.rejected.map((r) => r.problem),
        page.rejected.map((r) => r.message),
        page.rejected.map((r) => JSON.stringify(r.payload ?? null)),
      ],
    );
  }
  return {
    written: result.inserted + result.updated,
    deleted: result.deleted,
    rejected: page.rejected.length,
  };
};
