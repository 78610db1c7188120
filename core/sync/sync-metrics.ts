/**
 * Sync state as Prometheus gauges, read from the database at scrape time so every worker's
 * progress shows, whichever process serves /metrics.
 */
import { Gauge, type Registry } from 'prom-client';
import type { SyncStatusRow } from './sync-state.ts';

type Label = 'platform' | 'installation' | 'stream';
const labelNames: Label[] = ['platform', 'installation', 'stream'];

export function registerSyncMetrics(registry: Registry, read: () => Promise<readonly SyncStatusRow[]>): void {
  let pending: Promise<readonly SyncStatusRow[]> | null = null;
  // One query per scrape, shared by every gauge's collect().
  const rows = (): Promise<readonly SyncStatusRow[]> => {
    pending ??= read().finally(() => setTimeout(() => (pending = null), 0));
    return pending;
  };
  const labels = (r: SyncStatusRow) => ({ platform: r.platform, installation: r.installation_id, stream: r.stream });
  const gauge = (name: string, help: string, value: (r: SyncStatusRow) => number | null): void => {
    new Gauge<Label>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await rows()) {
          const v = value(row);
          if (v !== null) this.set(labels(row), v);
        }
      },
    });
  };
  gauge('ledgerline_sync_records', 'Records read by each stream since it was first synced.', (r) => Number(r.records_total));
  gauge('ledgerline_sync_rejected_records', 'Records each stream rejected (invalid shape or mapping), kept with their reason.', (r) => Number(r.rejected_total));
  gauge('ledgerline_sync_gap_records', "The source's own count minus the records stored, at the last reconciliation.", (r) =>
    r.source_count === null || r.stored_count === null ? null : Number(r.source_count) - Number(r.stored_count),
  );
  gauge('ledgerline_sync_last_success_timestamp_seconds', 'When each stream last finished a run successfully.', (r) =>
    r.last_success_at ? Date.parse(r.last_success_at) / 1000 : null,
  );
  gauge('ledgerline_sync_dead', '1 when a stream is dead-lettered (retries exhausted).', (r) => (r.status === 'dead' ? 1 : 0));
  gauge('ledgerline_sync_failed', '1 when the last run of a stream failed.', (r) => (r.status === 'failed' ? 1 : 0));
}
