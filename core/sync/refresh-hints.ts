/**
 * Webhooks enter the sync pipeline as refresh hints: stored once per platform event id (duplicates
 * are dropped by the database), then processed through the same validate → map → store path as a
 * sync page. Processing order does not matter: the store refuses a payload older than what it holds.
 */
import type { RefreshHint, StreamContext, AnyStream } from '../contract/index.ts';
import type { PreparedPage } from './record-pipeline.ts';
import { prepareRecords } from './record-pipeline.ts';
import type { SqlSession } from '../store/sql-session.ts';
import type { PageCounts, PageWriter } from './stream-runner.ts';
import type { StreamKey } from './sync-state.ts';

export interface HintIntake {
  readonly accepted: number;
  readonly duplicates: number;
  /** Events for platform accounts with no active installation (uninstalled, or never installed). */
  readonly unknownAccount: number;
  /** Installations that received new hints, to schedule processing. */
  readonly installations: readonly { tenantId: string; installationId: string; streams: readonly string[] }[];
}

/** Stores verified, parsed hints; the platform's event id is the dedupe key per installation. */
export async function recordHints(sql: SqlSession, platform: string, hints: readonly RefreshHint[]): Promise<HintIntake> {
  if (hints.length === 0) return { accepted: 0, duplicates: 0, unknownAccount: 0, installations: [] };
  const accounts = [...new Set(hints.map((h) => h.platformAccountId))];
  const rows = await sql.query<{ id: string; tenant_id: string; platform_account_id: string }>(
    `select id, tenant_id, platform_account_id from installation
      where platform = $1 and platform_account_id = any($2::text[]) and status <> 'uninstalled'`,
    [platform, accounts],
  );
  // Two tenants may have installed the same platform account: each gets the event.
  const byAccount = new Map<string, { id: string; tenant_id: string }[]>();
  for (const row of rows) byAccount.set(row.platform_account_id, [...(byAccount.get(row.platform_account_id) ?? []), row]);
  const deliveries = hints.flatMap((hint) => (byAccount.get(hint.platformAccountId) ?? []).map((installation) => ({ hint, installation })));
  const unknownAccount = hints.filter((h) => !byAccount.has(h.platformAccountId)).length;
  if (deliveries.length === 0) return { accepted: 0, duplicates: 0, unknownAccount, installations: [] };
  const column = <T>(pick: (h: RefreshHint, inst: { id: string; tenant_id: string }) => T): T[] => deliveries.map((d) => pick(d.hint, d.installation));
  const inserted = await sql.query<{ installation_id: string; tenant_id: string; stream: string }>(
    `insert into refresh_hint (tenant_id, installation_id, event_id, stream, external_id, action, merged_into, record, occurred_at)
     select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::timestamptz[])
     on conflict (installation_id, event_id) do nothing
     returning installation_id, tenant_id, stream`,
    [
      column((_, i) => i.tenant_id),
      column((_, i) => i.id),
      column((h) => h.eventId),
      column((h) => h.stream),
      column((h) => h.externalId),
      column((h) => h.action),
      column((h) => h.mergedInto ?? null),
      column((h) => (h.record === undefined ? null : JSON.stringify(h.record))),
      column((h) => h.occurredAt.toISOString()),
    ],
  );
  const touched = new Map<string, { tenantId: string; installationId: string; streams: Set<string> }>();
  for (const row of inserted) {
    const entry = touched.get(row.installation_id) ?? { tenantId: row.tenant_id, installationId: row.installation_id, streams: new Set() };
    entry.streams.add(row.stream);
    touched.set(row.installation_id, entry);
  }
  return {
    accepted: inserted.length,
    duplicates: deliveries.length - inserted.length,
    unknownAccount,
    installations: [...touched.values()].map((t) => ({ tenantId: t.tenantId, installationId: t.installationId, streams: [...t.streams] })),
  };
}

interface StoredHint {
  id: string;
  external_id: string;
  action: 'upsert' | 'delete' | 'merge';
  merged_into: string | null;
  record: unknown;
  occurred_at: Date;
}

export interface HintProcessing {
  readonly processed: number;
  /** Hints that need a stream run because the stream cannot fetch one record. */
  readonly needsRun: boolean;
  readonly counts: PageCounts;
}

/**
 * Processes pending hints of one stream in batches. Each batch commits its records and marks its
 * hints processed in one transaction.
 */
export async function processHints(
  sql: SqlSession,
  writePage: PageWriter,
  key: StreamKey,
  stream: AnyStream,
  ctx: StreamContext,
  batchSize = 500,
): Promise<HintProcessing> {
  let processed = 0;
  let needsRun = false;
  const total = { written: 0, deleted: 0, rejected: 0 };
  for (;;) {
    // Read without locking: fetching a record is an HTTP call and must not hold a transaction
    // (on the embedded database an open transaction holds everyone). Processing a hint twice is
    // harmless: writes are idempotent and never let an older payload win.
    const hints = await sql.query<StoredHint>(
      `select id, external_id, action, merged_into, record, occurred_at from refresh_hint
        where installation_id = $1 and stream = $2 and processed_at is null
        order by id limit $3`,
      [key.installationId, key.stream, batchSize],
    );
    if (hints.length === 0) return { processed, needsRun, counts: total };
    const page = await pageFromHints(stream, ctx, hints);
    await sql.transaction(async (tx) => {
      if (page === 'needs-run') {
        needsRun = true;
      } else {
        const counts = await writePage(tx, key, stream, page);
        total.written += counts.written;
        total.deleted += counts.deleted;
        total.rejected += counts.rejected;
      }
      await tx.query(
        `update refresh_hint set processed_at = clock_timestamp(), outcome = $2 where id = any($1::bigint[]) and processed_at is null`,
        [hints.map((h) => h.id), page === 'needs-run' ? 'stream_run' : 'applied'],
      );
    });
    processed += hints.length;
    if (hints.length < batchSize) return { processed, needsRun, counts: total };
  }
}

async function pageFromHints(stream: AnyStream, ctx: StreamContext, hints: readonly StoredHint[]): Promise<PreparedPage | 'needs-run'> {
  const raws: unknown[] = [];
  const deleted: { externalId: string; deletedAt: Date; mergedInto?: string }[] = [];
  for (const hint of hints) {
    if (hint.action === 'delete' || hint.action === 'merge') {
      deleted.push({
        externalId: hint.external_id,
        deletedAt: new Date(hint.occurred_at),
        ...(hint.merged_into ? { mergedInto: hint.merged_into } : {}),
      });
    } else if (hint.record !== null && hint.record !== undefined) {
      raws.push(hint.record);
    } else if (stream.fetchOne) {
      const current = await stream.fetchOne(ctx, hint.external_id);
      if (current === null || current === undefined) deleted.push({ externalId: hint.external_id, deletedAt: new Date(hint.occurred_at) });
      else raws.push(current);
    } else {
      return 'needs-run';
    }
  }
  return prepareRecords(stream, raws, deleted);
}
