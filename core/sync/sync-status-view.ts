/** Sync state rows as people read them: the checkpoint in the plugin's words, numbers as numbers. */
import type { SyncPlugin } from './sync-engine.ts';
import type { SyncStatusRow } from './sync-state.ts';

/** Where the next run starts, described by the stream's own cursor (raw JSON if the plugin is gone). */
export function describeCheckpoint(plugins: readonly SyncPlugin[], row: Pick<SyncStatusRow, 'platform' | 'stream' | 'cursor'>): string {
  if (row.cursor === null) return 'not started';
  const stream = plugins.find((p) => p.connector.id === row.platform)?.connector.streams.find((s) => s.name === row.stream);
  const parsed = stream?.cursor.schema.safeParse(row.cursor);
  return stream && parsed?.success ? stream.cursor.describe(parsed.data) : JSON.stringify(row.cursor).slice(0, 60);
}

export function syncStreamView(plugins: readonly SyncPlugin[], row: SyncStatusRow) {
  const count = (v: string | null): number | null => (v === null ? null : Number(v));
  return {
    installationId: row.installation_id,
    platform: row.platform,
    platformAccountId: row.platform_account_id,
    stream: row.stream,
    status: row.status,
    waitReason: row.wait_reason,
    records: Number(row.records_total),
    rejected: Number(row.rejected_total),
    lastSuccessAt: row.last_success_at ? new Date(row.last_success_at) : null,
    nextRunAt: row.next_run_at ? new Date(row.next_run_at) : null,
    checkpoint: describeCheckpoint(plugins, row),
    sourceCount: count(row.source_count),
    storedCount: count(row.stored_count),
    lastError: row.last_error_message ? `${row.last_error_code ?? ''}: ${row.last_error_message}` : null,
  };
}
