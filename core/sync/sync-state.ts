/**
 * The per-(installation, stream) sync state: checkpoint, lease, schedule, last outcome and
 * completeness figures. The lease fences writers: a batch commits only while its runner still
 * owns the lease, in the same transaction as the checkpoint it advances.
 */
import { recordInstallEvent } from '../install/install-events.ts';
import { LedgerlineError } from '../errors/index.ts';
import type { SqlSession } from '../store/sql-session.ts';

export interface StreamKey {
  readonly tenantId: string;
  readonly installationId: string;
  readonly stream: string;
}

export interface LeasedState {
  readonly cursor: unknown;
  readonly checkpointSeq: number;
  readonly runId: number;
  /** The previous run of the same mode did not finish (crash, failure): continue from its checkpoint. */
  readonly resumesUnfinishedRun: boolean;
}

/** Takes the lease when free or expired and opens a run record. Returns null when someone else holds it. */
export async function acquireLease(
  sql: SqlSession,
  key: StreamKey,
  options: { owner: string; leaseMs: number; mode: 'full' | 'incremental' | 'hints' },
): Promise<LeasedState | null> {
  return sql.transaction(async (tx) => {
    await tx.query(
      `insert into sync_state (tenant_id, installation_id, stream) values ($1, $2, $3)
       on conflict (installation_id, stream) do nothing`,
      [key.tenantId, key.installationId, key.stream],
    );
    const rows = await tx.query<{ cursor: unknown; checkpoint_seq: string; unfinished_same_mode: boolean }>(
      `with previous as (
         select mode, status from sync_state where installation_id = $1 and stream = $2 for update
       )
       update sync_state
          set lease_owner = $3, lease_until = clock_timestamp() + ($4::double precision * interval '1 millisecond'),
              status = 'running', wait_reason = null, mode = $5, run_started_at = clock_timestamp(),
              run_records = 0, run_pages = 0, run_total = null, updated_at = clock_timestamp()
         from previous
        where installation_id = $1 and stream = $2
          and (lease_owner is null or lease_owner = $3 or lease_until < clock_timestamp())
        returning cursor, checkpoint_seq, (previous.mode = $5 and previous.status <> 'idle') as unfinished_same_mode`,
      [key.installationId, key.stream, options.owner, options.leaseMs, options.mode],
    );
    const row = rows[0];
    if (!row) return null;
    const run = await tx.query<{ id: string }>(
      `insert into sync_run (tenant_id, installation_id, stream, mode, owner) values ($1, $2, $3, $4, $5) returning id`,
      [key.tenantId, key.installationId, key.stream, options.mode, options.owner],
    );
    return {
      cursor: row.cursor,
      checkpointSeq: Number(row.checkpoint_seq),
      runId: Number(run[0]!.id),
      resumesUnfinishedRun: row.unfinished_same_mode,
    };
  });
}

/** Extends the lease; false when it was lost (another runner took over after expiry). */
export async function renewLease(sql: SqlSession, key: StreamKey, owner: string, leaseMs: number): Promise<boolean> {
  const rows = await sql.query(
    `update sync_state set lease_until = clock_timestamp() + ($4::double precision * interval '1 millisecond')
      where installation_id = $1 and stream = $2 and lease_owner = $3 returning 1`,
    [key.installationId, key.stream, owner, leaseMs],
  );
  return rows.length === 1;
}

export interface CheckpointAdvance {
  readonly cursor: unknown;
  readonly records: number;
  readonly total: number | null;
}

/**
 * Advances the checkpoint inside the batch's transaction. Throws LL_CONFLICT when the lease is no
 * longer ours, which rolls the batch back with it: a fenced-off runner can never write.
 */
export async function advanceCheckpoint(
  tx: SqlSession,
  key: StreamKey,
  owner: string,
  leaseMs: number,
  advance: CheckpointAdvance,
): Promise<number> {
  const rows = await tx.query<{ checkpoint_seq: string }>(
    `update sync_state
        set cursor = $4::jsonb, checkpoint_seq = checkpoint_seq + 1,
            run_records = run_records + $5, run_pages = run_pages + 1,
            run_total = coalesce($6, run_total), records_total = records_total + $5,
            lease_until = clock_timestamp() + ($7::double precision * interval '1 millisecond'),
            updated_at = clock_timestamp()
      where installation_id = $1 and stream = $2 and lease_owner = $3
      returning checkpoint_seq`,
    [key.installationId, key.stream, owner, JSON.stringify(advance.cursor), advance.records, advance.total, leaseMs],
  );
  const row = rows[0];
  if (!row) {
    throw new LedgerlineError('LL_CONFLICT', `lost the sync lease for ${key.stream} of installation ${key.installationId}`);
  }
  return Number(row.checkpoint_seq);
}

export async function setWaitReason(sql: SqlSession, key: StreamKey, owner: string, reason: string | null): Promise<void> {
  await sql.query(
    `update sync_state set wait_reason = $4, status = case when $4::text is null then 'running' else 'waiting' end
      where installation_id = $1 and stream = $2 and lease_owner = $3`,
    [key.installationId, key.stream, owner, reason],
  );
}

export interface RunOutcome {
  readonly runId: number;
  readonly outcome: 'succeeded' | 'failed';
  readonly records: number;
  readonly pages: number;
  readonly deleted: number;
  readonly rejected: number;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** When the next incremental run is due; null leaves the schedule as it is. */
  readonly nextRunInMs: number | null;
}

/** Releases the lease and records how the run ended, visibly. */
export async function finishRun(sql: SqlSession, key: StreamKey, owner: string, outcome: RunOutcome): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query(
      `update sync_run set finished_at = clock_timestamp(), outcome = $2, records = $3, pages = $4, deleted = $5,
              rejected = $6, error_code = $7, error_message = $8
        where id = $1`,
      [
        outcome.runId,
        outcome.outcome,
        outcome.records,
        outcome.pages,
        outcome.deleted,
        outcome.rejected,
        outcome.errorCode ?? null,
        outcome.errorMessage ?? null,
      ],
    );
    const succeeded = outcome.outcome === 'succeeded';
    await tx.query(
      `update sync_state
          set lease_owner = null, lease_until = null, wait_reason = null,
              status = $4, run_finished_at = clock_timestamp(),
              last_success_at = case when $4 = 'idle' then clock_timestamp() else last_success_at end,
              last_error_code = case when $4 = 'idle' then last_error_code else $5 end,
              last_error_message = case when $4 = 'idle' then last_error_message else $6 end,
              last_error_at = case when $4 = 'idle' then last_error_at else clock_timestamp() end,
              rejected_total = rejected_total + $7,
              next_run_at = case when $8::double precision is null then next_run_at
                                 else clock_timestamp() + ($8::double precision * interval '1 millisecond') end,
              updated_at = clock_timestamp()
        where installation_id = $1 and stream = $2 and lease_owner = $3`,
      [
        key.installationId,
        key.stream,
        owner,
        succeeded ? 'idle' : 'failed',
        outcome.errorCode ?? null,
        outcome.errorMessage ?? null,
        outcome.rejected,
        outcome.nextRunInMs,
      ],
    );
  });
}

/** Records the source's count against what is stored, for `ledgerline status`, the console and /metrics. */
export async function recordReconciliation(sql: SqlSession, key: StreamKey, sourceCount: number | null, storedCount: number): Promise<void> {
  await sql.query(
    `update sync_state set source_count = $3, stored_count = $4, reconciled_at = clock_timestamp()
      where installation_id = $1 and stream = $2`,
    [key.installationId, key.stream, sourceCount, storedCount],
  );
}

/** A run the platform's budget stopped (a daily quota): waiting until the reset, not failed. */
export async function markDeferred(sql: SqlSession, key: StreamKey, untilMs: number, reason: string): Promise<void> {
  await sql.query(
    `update sync_state set status = 'waiting', wait_reason = $3,
            next_run_at = clock_timestamp() + ($4::double precision * interval '1 millisecond'), updated_at = clock_timestamp()
      where installation_id = $1 and stream = $2 and lease_owner is null`,
    [key.installationId, key.stream, reason, untilMs],
  );
}

/**
 * Marks a stream dead-lettered after its retries ran out (shown in status and the console). The
 * last error recorded by the failed run stays as it is; it says why.
 */
export async function markDead(sql: SqlSession, key: StreamKey): Promise<void> {
  await sql.query(
    `update sync_state set status = 'dead', lease_owner = null, lease_until = null, updated_at = clock_timestamp(),
            last_error_message = coalesce(last_error_message, 'retries exhausted')
      where installation_id = $1 and stream = $2`,
    [key.installationId, key.stream],
  );
}

export interface SyncStatusRow {
  tenant_id: string;
  installation_id: string;
  platform: string;
  platform_account_id: string;
  stream: string;
  status: string;
  wait_reason: string | null;
  mode: string | null;
  checkpoint_seq: string;
  cursor: unknown;
  run_records: string;
  run_pages: string;
  run_total: string | null;
  records_total: string;
  rejected_total: string;
  last_success_at: string | null;
  run_started_at: string | null;
  next_run_at: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  source_count: string | null;
  stored_count: string | null;
  reconciled_at: string | null;
}

/** Every stream's state, optionally for one tenant, for `ledgerline status`, the console and /metrics. */
export async function listSyncStatus(sql: SqlSession, tenantId?: string): Promise<SyncStatusRow[]> {
  return sql.query<SyncStatusRow>(
    `select s.tenant_id, s.installation_id, i.platform, i.platform_account_id, s.stream, s.status, s.wait_reason, s.mode,
            s.checkpoint_seq, s.cursor, s.run_records, s.run_pages, s.run_total, s.records_total, s.rejected_total,
            s.last_success_at, s.run_started_at, s.next_run_at, s.last_error_code, s.last_error_message,
            s.source_count, s.stored_count, s.reconciled_at
       from sync_state s join installation i on i.id = s.installation_id
      where ($1::uuid is null or s.tenant_id = $1)
      order by i.platform, i.platform_account_id, s.stream`,
    [tenantId ?? null],
  );
}

/**
 * The platform refused the installation's grant (refresh token revoked or expired): stop
 * scheduling its syncs, and record why, until an admin reinstalls. Returns whether this call
 * changed the status (so the event is recorded once, not once per stream).
 */
export async function markNeedsReauth(sql: SqlSession, key: StreamKey, reason: string): Promise<boolean> {
  return sql.transaction(async (tx) => {
    const changed = await tx.query<{ id: string }>(
      `update installation set status = 'needs_reauth', updated_at = now()
        where id = $1 and tenant_id = $2 and status = 'active' returning id`,
      [key.installationId, key.tenantId],
    );
    if (changed.length === 0) return false;
    await recordInstallEvent((sql, params) => tx.query(sql, params), { tenantId: key.tenantId, installationId: key.installationId, kind: 'needs_reauth', detail: { stream: key.stream, reason } });
    return true;
  });
}
