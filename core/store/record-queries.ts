/**
 * Reading back what the bulk path wrote: one source record, and the two activity timelines (a
 * subject's, newest first; a driver's, in order) that panels and reports start from. Every query
 * takes the tenant and filters by it, so an id from another tenant finds nothing.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { LedgerlineError } from '../errors/index.ts';
import { ActivityRecord, type SourceRef } from '../model/index.ts';
import { openActivityFields, type PersonalFields, type SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from './sql-session.ts';
import { ActivityEntity, SourceRecordEntity, type ActivityRow, type SourceRecordRow } from './entities.ts';

export interface SourceRecordView {
  readonly installationId: string;
  readonly objectType: string;
  readonly externalId: string;
  readonly updatedAt: Date | null;
  readonly contentHash: string;
  readonly payload: Record<string, unknown>;
  readonly canonical: unknown;
  readonly firstSeenAt: Date;
  readonly lastChangedAt: Date;
  readonly deletedAt: Date | null;
}

/** An activity as stored: the canonical record plus where and when it was recorded. */
export interface ActivityView extends ActivityRecord {
  readonly id: string;
  readonly installationId: string;
  readonly recordedAt: Date;
}

export interface TimelineOptions {
  /** At most this many activities (default 100, at most 1000). */
  readonly limit?: number;
  /** Subject timeline only: activities strictly before this instant (paging backwards). */
  readonly before?: Date;
}

const sourceRecordView = (row: SourceRecordRow): SourceRecordView => ({
  installationId: row.installationId,
  objectType: row.objectType,
  externalId: row.externalId,
  updatedAt: row.platformUpdatedAt ?? null,
  contentHash: row.contentHash,
  payload: row.payload,
  canonical: row.canonical ?? null,
  firstSeenAt: row.firstSeenAt,
  lastChangedAt: row.lastChangedAt,
  deletedAt: row.deletedAt ?? null,
});

/** Rows are re-validated on the way out: a row that no longer fits the model is an integrity failure, not a cast. */
function activityView(row: ActivityRow, personal: PersonalFields): ActivityView {
  const parsed = ActivityRecord.safeParse({
    kind: row.kind,
    category: row.category,
    occurredAt: row.occurredAt,
    subject: { kind: row.subjectKind, objectType: row.subjectObjectType, externalId: row.subjectExternalId },
    driver: row.driverExternalId ? { type: row.driverType, objectType: row.driverObjectType, externalId: row.driverExternalId } : null,
    source: { objectType: row.sourceObjectType, externalId: row.sourceExternalId },
    discriminator: row.discriminator,
    amount: row.amount ? { value: row.amount, currency: row.currency } : null,
    summary: personal.summary,
    actor: personal.actor,
    attributes: personal.attributes,
  });
  if (!parsed.success) {
    throw new LedgerlineError('LL_INTEGRITY', `stored activity ${row.id} does not fit the model: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  return { ...parsed.data, id: row.id, installationId: row.installationId, recordedAt: row.recordedAt };
}

const limitOf = (options: TimelineOptions): number => Math.min(Math.max(1, Math.trunc(options.limit ?? 100)), 1000);

export function createRecordQueries(fork: () => EntityManager, keyring: SubjectKeyring, sql: Pick<SqlSession, 'query'>) {
  /** Opens the rows' personal fields with one key lookup, then checks each row against the model. */
  async function views(tenantId: string, rows: readonly ActivityRow[]): Promise<ActivityView[]> {
    const exec = (text: string, params?: readonly unknown[]) => sql.query(text, params);
    const personal = await openActivityFields(exec, keyring, tenantId, rows.map((row) => ({
      installationId: row.installationId,
      sourceObjectType: row.sourceObjectType,
      sourceExternalId: row.sourceExternalId,
      discriminator: row.discriminator,
      personal: row.personal ?? null,
      summary: row.summary ?? null,
      actor: row.actor ?? null,
      attributes: row.attributes,
    })));
    return rows.map((row, i) => activityView(row, personal[i]!));
  }

  return {
    async sourceRecord(tenantId: string, installationId: string, ref: SourceRef): Promise<SourceRecordView | null> {
      const row = await fork().findOne(SourceRecordEntity, { tenantId, installationId, objectType: ref.objectType, externalId: ref.externalId });
      return row ? sourceRecordView(row) : null;
    },

    /** Everything that happened to a subject, newest first (index activity_subject_timeline). */
    async subjectTimeline(tenantId: string, subject: SourceRef, options: TimelineOptions = {}): Promise<ActivityView[]> {
      const rows = await fork().find(
        ActivityEntity,
        {
          tenantId,
          subjectObjectType: subject.objectType,
          subjectExternalId: subject.externalId,
          ...(options.before ? { occurredAt: { $lt: options.before } } : {}),
        },
        { orderBy: { occurredAt: 'desc', id: 'desc' }, limit: limitOf(options) },
      );
      return views(tenantId, rows);
    },

    /** Everything that belongs to one ticket, deal or order, oldest first (index activity_driver_timeline). */
    async driverTimeline(tenantId: string, driver: SourceRef, options: Pick<TimelineOptions, 'limit'> = {}): Promise<ActivityView[]> {
      const rows = await fork().find(
        ActivityEntity,
        { tenantId, driverObjectType: driver.objectType, driverExternalId: driver.externalId },
        { orderBy: { occurredAt: 'asc', id: 'asc' }, limit: limitOf(options) },
      );
      return views(tenantId, rows);
    },
  };
}

export type RecordQueries = ReturnType<typeof createRecordQueries>;
