/**
 * The sync engine: which (installation, stream) pairs exist, which are due, and running one of
 * them — from a queue job (worker) or in the foreground (`ledgerline sync`). It knows no platform:
 * plugins arrive through the manifest loader.
 */
import type { ConnectorDefinition, InstallationView, PluginSettings, StreamContext, AnyStream } from '../contract/index.ts';
import { LedgerlineError } from '../errors/index.ts';
import type { Clock, Logger } from '../contract/index.ts';
import { processHints } from './refresh-hints.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { runStream, type PageWriter, type ProgressEvent, type RunSummary, type SyncMode } from './stream-runner.ts';
import type { SyncJob, SyncQueue } from './sync-queue.ts';
import type { StreamKey } from './sync-state.ts';

export interface SyncPlugin {
  readonly connector: ConnectorDefinition;
  readonly settings: PluginSettings;
}

export interface SyncTarget {
  readonly installation: InstallationView & { readonly platform: string; readonly installParams: Readonly<Record<string, unknown>> };
  readonly stream: AnyStream;
  readonly plugin: SyncPlugin;
}

/** Builds the governed context a stream reads through (tokens, rate governor, logger). */
export type StreamContextFactory = (
  target: SyncTarget,
  signal: AbortSignal,
  onWait: (reason: string, ms: number) => void,
) => StreamContext;

export interface SyncEngineDeps {
  readonly sql: SqlSession;
  readonly plugins: readonly SyncPlugin[];
  readonly writePage: PageWriter;
  readonly context: StreamContextFactory;
  /** Identifies this process in leases (host:pid:random). */
  readonly owner: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly defaultIncrementalEveryMs: number;
}

export interface TargetFilter {
  readonly tenantId?: string;
  readonly installationId?: string;
  readonly stream?: string;
}

interface InstallationRow {
  id: string;
  tenant_id: string;
  platform: string;
  platform_account_id: string;
  api_base_url: string;
  install_params: Record<string, unknown>;
}

export function createSyncEngine(deps: SyncEngineDeps) {
  const pluginById = new Map(deps.plugins.map((p) => [p.connector.id, p]));

  async function targets(filter: TargetFilter = {}): Promise<SyncTarget[]> {
    const rows = await deps.sql.query<InstallationRow>(
      `select id, tenant_id, platform, platform_account_id, api_base_url, install_params from installation
        where status = 'active' and ($1::uuid is null or tenant_id = $1) and ($2::uuid is null or id = $2)
        order by installed_at`,
      [filter.tenantId ?? null, filter.installationId ?? null],
    );
    const out: SyncTarget[] = [];
    for (const row of rows) {
      const plugin = pluginById.get(row.platform);
      if (!plugin) {
        deps.log.warn({ installationId: row.id, platform: row.platform }, 'installation of a plugin that is not in the manifest; not syncing it');
        continue;
      }
      for (const stream of plugin.connector.streams) {
        if (filter.stream && stream.name !== filter.stream) continue;
        out.push({
          installation: {
            id: row.id,
            tenantId: row.tenant_id,
            platform: row.platform,
            platformAccountId: row.platform_account_id,
            apiBaseUrl: row.api_base_url,
            installParams: row.install_params,
          },
          stream,
          plugin,
        });
      }
    }
    if (filter.stream && out.length === 0 && rows.length > 0) {
      throw new LedgerlineError('LL_INVALID_INPUT', `no stream named '${filter.stream}' on the selected installations`, {
        details: { field: 'stream' },
      });
    }
    return out;
  }

  function keyOf(target: SyncTarget): StreamKey {
    return { tenantId: target.installation.tenantId, installationId: target.installation.id, stream: target.stream.name };
  }

  async function run(target: SyncTarget, mode: SyncMode, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<RunSummary> {
    return runStream(
      {
        sql: deps.sql,
        writePage: deps.writePage,
        context: (_key, s, onWait) => deps.context(target, s, onWait),
        owner: deps.owner,
        leaseMs: deps.leaseMs,
        clock: deps.clock,
        log: deps.log,
        pluginId: target.plugin.connector.id,
        defaultIncrementalEveryMs: deps.defaultIncrementalEveryMs,
        ...(onProgress ? { onProgress } : {}),
      },
      keyOf(target),
      target.stream,
      mode,
      signal,
    );
  }


  return {
    targets,

    /**
     * Foreground runs for the CLI: every selected stream, one after another. Runs are incremental
     * (from the stored checkpoint, or a backfill when there is none yet, so an interrupted backfill
     * continues where it stopped); only an explicit full run starts over.
     */
    async runNow(filter: TargetFilter & { full?: boolean }, onProgress?: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<RunSummary[]> {
      const summaries: RunSummary[] = [];
      for (const target of await targets(filter)) {
        if (signal?.aborted) break;
        summaries.push(await run(target, filter.full ? 'full' : 'incremental', onProgress, signal));
      }
      return summaries;
    },

    /** Runs one queue job. Throws retryable errors so the queue retries with backoff. */
    async runJob(job: SyncJob, signal?: AbortSignal): Promise<RunSummary> {
      const [target] = await targets({ installationId: job.installationId, stream: job.stream });
      if (!target) {
        // Uninstalled since the job was queued: nothing to do, and nothing to retry.
        deps.log.info({ job }, 'sync job for an installation or stream that no longer exists');
        return { outcome: 'succeeded', records: 0, pages: 0, deleted: 0, rejected: 0, sourceCount: null, storedCount: null };
      }
      if (job.mode === 'hints') {
        const controller = new AbortController();
        const ctx = deps.context(target, signal ?? controller.signal, () => undefined);
        const result = await processHints(deps.sql, deps.writePage, keyOf(target), target.stream, ctx);
        if (!result.needsRun) {
          return { outcome: 'succeeded', records: result.processed, pages: 0, deleted: result.counts.deleted, rejected: result.counts.rejected, sourceCount: null, storedCount: null };
        }
      }
      const summary = await run(target, job.mode === 'full' ? 'full' : 'incremental', undefined, signal);
      if (summary.outcome === 'busy') {
        throw new LedgerlineError('LL_CONFLICT', `${job.stream} of ${job.installationId} is being synced by another worker`);
      }
      if (summary.error) throw summary.error;
      return summary;
    },

    /** Queues every stream whose next run is due (or that never ran). The queue dedupes per key. */
    async enqueueDue(queue: SyncQueue): Promise<number> {
      const all = await targets();
      if (all.length === 0) return 0;
      const states = await deps.sql.query<{ installation_id: string; stream: string; due: boolean; status: string }>(
        `select installation_id, stream, (next_run_at is null or next_run_at <= clock_timestamp()) as due, status
           from sync_state where installation_id = any($1::uuid[])`,
        [[...new Set(all.map((t) => t.installation.id))]],
      );
      const byKey = new Map(states.map((s) => [`${s.installation_id}:${s.stream}`, s]));
      let queued = 0;
      for (const target of all) {
        const state = byKey.get(`${target.installation.id}:${target.stream.name}`);
        if (state && (!state.due || state.status === 'dead')) continue;
        const id = await queue.enqueue({
          tenantId: target.installation.tenantId,
          installationId: target.installation.id,
          stream: target.stream.name,
          mode: 'incremental',
        });
        if (id) queued += 1;
      }
      return queued;
    },
  };
}

export type SyncEngine = ReturnType<typeof createSyncEngine>;
