/**
 * Sync jobs on PostgreSQL (pg-boss): one job per (installation, stream), at most one queued and one
 * active per key across every worker (the `stately` policy), retries with exponential backoff and
 * jitter, heartbeats so a dead worker's job is retried in seconds, and a dead-letter queue.
 * The sync lease in sync_state fences writers on top of that, so even a double delivery can't write twice.
 */
import { PgBoss } from 'pg-boss';
import { z } from 'zod';
import type { Logger } from '../contract/index.ts';
import { LedgerlineError, invalidInput } from '../errors/index.ts';

export const syncQueueName = 'ledgerline-sync';
export const deadSyncQueueName = 'ledgerline-sync-dead';

export const SyncJob = z.strictObject({
  tenantId: z.uuid(),
  installationId: z.uuid(),
  stream: z.string().min(1),
  mode: z.enum(['full', 'incremental', 'hints']),
});
export type SyncJob = z.infer<typeof SyncJob>;

export interface SyncQueueOptions {
  readonly connectionString: string;
  readonly log: Logger;
  /** Retries before a job is dead-lettered. */
  readonly retryLimit?: number;
  /** First retry delay in seconds; doubles with jitter up to `retryDelayMaxSeconds`. */
  readonly retryDelaySeconds?: number;
  readonly retryDelayMaxSeconds?: number;
  /** A worker that stops heart-beating for this long loses the job (pg-boss minimum: 10). */
  readonly heartbeatSeconds?: number;
  /** Connections pg-boss may open (keep small on the embedded database). */
  readonly maxConnections?: number;
}

export interface SyncQueue {
  readonly boss: PgBoss;
  enqueue(job: SyncJob, options?: { startAfterSeconds?: number }): Promise<string | null>;
  stop(): Promise<void>;
}

/** Runs and webhook-hint processing of one stream queue separately: a queued run must not swallow hints. */
export function jobKey(job: Pick<SyncJob, 'installationId' | 'stream' | 'mode'>): string {
  return job.mode === 'hints' ? `${job.installationId}:${job.stream}:hints` : `${job.installationId}:${job.stream}`;
}

export async function openSyncQueue(options: SyncQueueOptions): Promise<SyncQueue> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: 'pgboss',
    max: options.maxConnections ?? 4,
    application_name: 'ledgerline-queue',
  });
  boss.on('error', (error: unknown) => options.log.error({ err: error }, 'job queue error'));
  await boss.start();
  const retry = {
    retryLimit: options.retryLimit ?? 8,
    retryDelay: options.retryDelaySeconds ?? 5,
    retryBackoff: true,
    retryDelayMax: options.retryDelayMaxSeconds ?? 900,
  };
  await ensureQueue(boss, deadSyncQueueName, { policy: 'standard', retryLimit: 0 });
  await ensureQueue(boss, syncQueueName, {
    policy: 'stately',
    deadLetter: deadSyncQueueName,
    heartbeatSeconds: Math.max(10, options.heartbeatSeconds ?? 10),
    expireInSeconds: 6 * 3600,
    ...retry,
  });
  return {
    boss,
    async enqueue(job, enqueueOptions) {
      const parsed = SyncJob.safeParse(job);
      if (!parsed.success) throw invalidInput('sync job', parsed.error.issues);
      return boss.send(syncQueueName, parsed.data, {
        singletonKey: jobKey(parsed.data),
        ...(enqueueOptions?.startAfterSeconds ? { startAfter: enqueueOptions.startAfterSeconds } : {}),
      });
    },
    async stop() {
      await boss.stop({ graceful: true, timeout: 10_000 });
    },
  };
}

async function ensureQueue(boss: PgBoss, name: string, options: Record<string, unknown>): Promise<void> {
  const existing = await boss.getQueue(name);
  if (existing) {
    // A queue's policy is fixed at creation; everything else follows this version's settings.
    const { policy: _policy, ...changeable } = options;
    await boss.updateQueue(name, changeable);
    return;
  }
  try {
    await boss.createQueue(name, options);
  } catch (error) {
    // Two workers starting together: the other one created it first.
    if (!(await boss.getQueue(name))) throw error;
  }
}

/** Parses a job's payload at the queue boundary; a malformed job is rejected, not run. */
export function parseSyncJob(data: unknown): SyncJob {
  const parsed = SyncJob.safeParse(data);
  if (!parsed.success) throw invalidInput('sync job', parsed.error.issues);
  return parsed.data;
}

export interface DeadLetter {
  readonly id: string;
  readonly job: SyncJob | null;
  readonly failedAt: Date | null;
  readonly error: string;
}

/** Dead-lettered sync jobs still held, newest first, for the console and `ledgerline status`. */
export async function listDeadLetters(boss: PgBoss, limit = 50): Promise<DeadLetter[]> {
  const jobs = await boss.findJobs(deadSyncQueueName, {});
  return jobs
    .slice(-limit)
    .reverse()
    .map((job) => {
      const parsed = SyncJob.safeParse(job.data);
      return {
        id: job.id,
        job: parsed.success ? parsed.data : null,
        failedAt: job.createdOn ?? null,
        error: describeOutput(job.output),
      };
    });
}

function describeOutput(output: unknown): string {
  if (output && typeof output === 'object' && 'message' in output) return String((output).message);
  return output === undefined || output === null ? 'retries exhausted' : JSON.stringify(output).slice(0, 300);
}

export function assertQueueOpen(queue: SyncQueue | null): SyncQueue {
  if (!queue) throw new LedgerlineError('LL_UNAVAILABLE', 'the job queue is not running in this process');
  return queue;
}
