/**
 * A sync worker: takes jobs from the queue (any number of workers, on any number of machines),
 * queues due streams on a schedule, and sends jobs whose error cannot be fixed by retrying straight
 * to the dead-letter queue; retryable failures go back with exponential backoff and jitter.
 */
import type { Logger } from '../contract/index.ts';
import { LedgerlineError, toLedgerlineError } from '../errors/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import type { SyncEngine } from './sync-engine.ts';
import { deadSyncQueueName, parseSyncJob, syncQueueName, type SyncQueue } from './sync-queue.ts';
import { markDead, markDeferred } from './sync-state.ts';

export interface SyncWorkerOptions {
  readonly engine: SyncEngine;
  readonly queue: SyncQueue;
  readonly sql: SqlSession;
  readonly log: Logger;
  /** Jobs this process runs at once. */
  readonly concurrency?: number;
  /** How often due streams are queued, ms. */
  readonly scheduleEveryMs?: number;
  readonly pollingIntervalSeconds?: number;
}

export interface RunningSyncWorker {
  stop(): Promise<void>;
}

export async function startSyncWorker(options: SyncWorkerOptions): Promise<RunningSyncWorker> {
  const { engine, queue, sql, log } = options;
  const boss = queue.boss;
  // Stopping the worker interrupts running syncs at their next step: each has checkpointed every
  // page it wrote, so its retry continues from there instead of the shutdown waiting out a backfill.
  const shutdown = new AbortController();
  await boss.work(
    syncQueueName,
    { localConcurrency: options.concurrency ?? 2, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1, perJobResults: true },
    async (jobs) => {
      const results = [];
      for (const job of jobs) {
        try {
          const data = parseSyncJob(job.data);
          const summary = await engine.runJob(data, AbortSignal.any([job.signal, shutdown.signal]));
          results.push({ id: job.id, status: 'completed' as const, output: { records: summary.records, pages: summary.pages } });
        } catch (thrown) {
          const error = toLedgerlineError(thrown);
          if (shutdown.signal.aborted) {
            log.info({ jobId: job.id }, 'sync interrupted by shutdown; it resumes from its checkpoint');
            results.push({ id: job.id, status: 'failed' as const, output: { code: 'LL_UNAVAILABLE', message: 'interrupted by worker shutdown' } });
            continue;
          }
          const output = { code: error.code, message: error.message };
          const retryAfter = error.details.retryAfterSeconds;
          if (error.code === 'LL_RATE_LIMITED' && retryAfter !== undefined) {
            // A budget that refills later (a daily quota): come back then, without spending a retry.
            const data = parseSyncJob(job.data);
            await queue.enqueue(data, { startAfterSeconds: Math.ceil(retryAfter) });
            await markDeferred(sql, data, retryAfter * 1000, `rate limit until ${new Date(Date.now() + retryAfter * 1000).toISOString()}`);
            log.info({ job: data, retryAfterSeconds: retryAfter }, 'sync deferred until the platform budget refills');
            results.push({ id: job.id, status: 'completed' as const, output: { deferredSeconds: retryAfter } });
            continue;
          }
          log.warn({ jobId: job.id, code: error.code, err: error.message, retry: job.retryCount }, 'sync job failed');
          results.push({ id: job.id, status: error.retryable ? ('failed' as const) : ('deadletter' as const), output });
        }
      }
      return results;
    },
  );
  // A job lands here after its retries ran out (or at once for errors retrying can't fix).
  await boss.work(deadSyncQueueName, { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 }, async (jobs) => {
    for (const job of jobs) {
      const data = parseSyncJob(job.data);
      await markDead(sql, data);
      log.error({ job: data }, 'sync job dead-lettered');
    }
  });

  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      const queued = await engine.enqueueDue(queue);
      if (queued > 0) log.info({ queued }, 'queued due syncs');
    } catch (error) {
      log.error({ err: toLedgerlineError(error).message }, 'could not queue due syncs');
    }
  };
  await tick();
  const timer = setInterval(() => {
    if (!stopped) void tick();
  }, options.scheduleEveryMs ?? 15_000);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      shutdown.abort(new LedgerlineError('LL_UNAVAILABLE', 'sync worker stopping'));
      await boss.offWork(syncQueueName);
      await boss.offWork(deadSyncQueueName);
    },
  };
}
