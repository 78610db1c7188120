/**
 * Runs one stream of one installation from its checkpoint to the end of the source: read a page,
 * validate and map it, commit records + rejects + checkpoint in one transaction, repeat. A crash at
 * any instant resumes exactly where the store is; a runner that lost its lease cannot write.
 */
import type { Clock, Logger, StreamContext, AnyStream } from '../contract/index.ts';
import { LedgerlineError, inPlugin, toLedgerlineError } from '../errors/index.ts';
import { transientDatabaseError } from '../store/index.ts';
import { prepareRecords, type PreparedPage } from './record-pipeline.ts';
import type { SqlSession } from '../store/sql-session.ts';
import {
  acquireLease,
  advanceCheckpoint,
  finishRun,
  markNeedsReauth,
  recordReconciliation,
  renewLease,
  setWaitReason,
  type LeasedState,
  type StreamKey,
} from './sync-state.ts';

export type SyncMode = 'full' | 'incremental';

export interface PageCounts {
  readonly written: number;
  readonly deleted: number;
  readonly rejected: number;
}

/** Writes one prepared page inside the caller's transaction (records, deletions, rejects). */
export type PageWriter = (tx: SqlSession, key: StreamKey, stream: AnyStream, page: PreparedPage) => Promise<PageCounts>;

export type ProgressEvent =
  | { readonly type: 'started'; readonly key: StreamKey; readonly mode: SyncMode; readonly from: string }
  | {
      readonly type: 'page';
      readonly key: StreamKey;
      readonly records: number;
      readonly pages: number;
      readonly total: number | null;
      readonly elapsedMs: number;
      readonly checkpointSeq: number;
    }
  | { readonly type: 'waiting'; readonly key: StreamKey; readonly reason: string; readonly ms: number }
  | { readonly type: 'finished'; readonly key: StreamKey; readonly summary: RunSummary };

export interface RunSummary {
  readonly outcome: 'succeeded' | 'failed' | 'busy';
  readonly records: number;
  readonly pages: number;
  readonly deleted: number;
  readonly rejected: number;
  readonly sourceCount: number | null;
  readonly storedCount: number | null;
  readonly error?: LedgerlineError;
}

export interface StreamRunnerDeps {
  readonly sql: SqlSession;
  readonly writePage: PageWriter;
  /** Builds the stream context (governed fetch, tokens) for this run; `onWait` feeds progress. */
  readonly context: (key: StreamKey, signal: AbortSignal, onWait: (reason: string, ms: number) => void) => StreamContext;
  readonly owner: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly pluginId: string;
  readonly defaultIncrementalEveryMs: number;
  readonly onProgress?: (event: ProgressEvent) => void;
}

const busy: RunSummary = { outcome: 'busy', records: 0, pages: 0, deleted: 0, rejected: 0, sourceCount: null, storedCount: null };

/**
 * Where a run starts. A full run starts from the beginning unless it continues an unfinished full
 * run; an incremental run continues from the stored checkpoint, or backfills when there is none.
 * A stored checkpoint is validated with the stream's schema; an invalid one is reported and
 * replaced by a backfill (re-reading is safe: writes are idempotent).
 */
function startingCursor(stream: AnyStream, lease: LeasedState, mode: SyncMode, now: Date, log: Logger): unknown {
  const stored = lease.cursor;
  const continueStored = mode === 'incremental' || lease.resumesUnfinishedRun;
  if (!continueStored || stored === null || stored === undefined) return stream.cursor.initial({ full: true, now });
  const parsed = stream.cursor.schema.safeParse(stored);
  if (parsed.success) return parsed.data;
  log.warn({ stream: stream.name, issues: parsed.error.issues }, 'stored checkpoint is invalid; starting a full backfill');
  return stream.cursor.initial({ full: true, now });
}

export async function runStream(
  deps: StreamRunnerDeps,
  key: StreamKey,
  stream: AnyStream,
  mode: SyncMode,
  outerSignal?: AbortSignal,
): Promise<RunSummary> {
  const lease = await acquireLease(deps.sql, key, { owner: deps.owner, leaseMs: deps.leaseMs, mode });
  if (!lease) return busy;

  const controller = new AbortController();
  const abortFromOuter = (): void => controller.abort(outerSignal?.reason);
  outerSignal?.addEventListener('abort', abortFromOuter, { once: true });
  let leaseLost = false;
  // Heartbeat: keep the lease while we work; if another runner took it over, stop at once.
  const heartbeat = setInterval(() => {
    renewLease(deps.sql, key, deps.owner, deps.leaseMs).then(
      (held) => {
        if (!held) {
          leaseLost = true;
          controller.abort(new LedgerlineError('LL_CONFLICT', 'sync lease lost'));
        }
      },
      (error: unknown) => deps.log.warn({ err: error, stream: key.stream }, 'lease renewal failed'),
    );
  }, Math.max(100, Math.floor(deps.leaseMs / 3)));

  let records = 0;
  let pages = 0;
  let deleted = 0;
  let rejected = 0;
  let waiting: string | null = null;
  const started = deps.clock.now().getTime();
  const onWait = (reason: string, ms: number): void => {
    deps.onProgress?.({ type: 'waiting', key, reason, ms });
    const text = `${reason} ${(ms / 1000).toFixed(1)} s`;
    if (text !== waiting) {
      waiting = text;
      // Only what status shows while waiting; the wait itself goes on regardless.
      setWaitReason(deps.sql, key, deps.owner, text).catch((error: unknown) =>
        deps.log.warn({ err: toLedgerlineError(error).message, stream: key.stream }, 'could not record the wait reason'),
      );
    }
  };

  try {
    const ctx = deps.context(key, controller.signal, onWait);
    let cursor = startingCursor(stream, lease, mode, deps.clock.now(), deps.log);
    deps.onProgress?.({ type: 'started', key, mode, from: stream.cursor.describe(cursor) });
    let total: number | null = null;
    const pagesOf = stream.read(ctx, cursor);
    for await (const page of pagesOf) {
      if (controller.signal.aborted) throw controller.signal.reason;
      const prepared = prepareRecords(stream, page.records, page.deleted ?? []);
      const nextCursor: unknown = stream.cursor.schema.parse(page.checkpoint);
      total = page.total ?? total;
      const seq = await deps.sql.transaction(async (tx) => {
        const counts = await deps.writePage(tx, key, stream, prepared);
        deleted += counts.deleted;
        rejected += counts.rejected;
        return advanceCheckpoint(tx, key, deps.owner, deps.leaseMs, {
          cursor: nextCursor,
          records: page.records.length,
          total,
        });
      });
      if (waiting !== null) {
        waiting = null;
        await setWaitReason(deps.sql, key, deps.owner, null);
      }
      cursor = nextCursor;
      records += page.records.length;
      pages += 1;
      deps.onProgress?.({
        type: 'page',
        key,
        records,
        pages,
        total,
        elapsedMs: deps.clock.now().getTime() - started,
        checkpointSeq: seq,
      });
    }
    const reconciliation = await reconcile(deps, key, stream, ctx);
    const summary: RunSummary = { outcome: 'succeeded', records, pages, deleted, rejected, ...reconciliation };
    await finishRun(deps.sql, key, deps.owner, {
      runId: lease.runId,
      outcome: 'succeeded',
      records,
      pages,
      deleted,
      rejected,
      nextRunInMs: (stream.incrementalEverySeconds ?? deps.defaultIncrementalEveryMs / 1000) * 1000,
    });
    deps.onProgress?.({ type: 'finished', key, summary });
    return summary;
  } catch (thrown) {
    // A dropped database connection is retryable wherever it surfaced (our SQL, or the governor's
    // inside the plugin's fetch); anything else raised by plugin code is tagged with its hook.
    const error = leaseLost
      ? new LedgerlineError('LL_CONFLICT', `lost the sync lease for ${key.stream}`, { cause: thrown })
      : (transientDatabaseError(thrown) ??
        (thrown instanceof LedgerlineError ? thrown : inPlugin(deps.pluginId, `streams.${stream.name}`, thrown)));
    if (!leaseLost) {
      await finishRun(deps.sql, key, deps.owner, {
        runId: lease.runId,
        outcome: 'failed',
        records,
        pages,
        deleted,
        rejected,
        errorCode: error.code,
        errorMessage: error.message,
        nextRunInMs: null,
      }).catch((finishError: unknown) => deps.log.error({ err: toLedgerlineError(finishError) }, 'could not record the failed run'));
    }
    if (error.code === 'LL_AUTH_REVOKED') {
      await markNeedsReauth(deps.sql, key, error.message)
        .then((changed) => {
          if (changed) deps.log.warn({ installation: key.installationId, err: error.message }, 'the platform refused the grant: the installation needs reinstalling');
        })
        .catch((markError: unknown) => deps.log.error({ err: toLedgerlineError(markError) }, 'could not mark the installation as needing reinstall'));
    }
    const summary: RunSummary = { outcome: 'failed', records, pages, deleted, rejected, sourceCount: null, storedCount: null, error };
    deps.onProgress?.({ type: 'finished', key, summary });
    return summary;
  } finally {
    clearInterval(heartbeat);
    outerSignal?.removeEventListener('abort', abortFromOuter);
  }
}

/** Compares the platform's count (where it gives one) with the live records stored for this stream. */
async function reconcile(
  deps: StreamRunnerDeps,
  key: StreamKey,
  stream: AnyStream,
  ctx: StreamContext,
): Promise<{ sourceCount: number | null; storedCount: number | null }> {
  if (!stream.count) return { sourceCount: null, storedCount: null };
  const sourceCount = await stream.count(ctx);
  const rows = await deps.sql.query<{ n: string }>(
    `select count(*) as n from source_record
      where tenant_id = $1 and installation_id = $2 and object_type = $3 and deleted_at is null`,
    [key.tenantId, key.installationId, stream.objectType],
  );
  const storedCount = Number(rows[0]?.n ?? 0);
  await recordReconciliation(deps.sql, key, sourceCount, storedCount);
  return { sourceCount, storedCount };
}
