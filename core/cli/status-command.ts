import { z } from 'zod';
import { invalidInput } from '../errors/index.ts';
import { createInstallationDirectory, createTenantDirectory } from '../store/index.ts';
import { describeCheckpoint, listSyncStatus, type SyncStatusRow } from '../sync/index.ts';
import { parseArguments, type Command } from './commands.ts';
import { TenantSlugArg } from './tenant-arg.ts';
import { openRuntime, type Runtime } from './runtime.ts';

const StatusArgs = z.strictObject({
  tenant: TenantSlugArg.optional(),
  json: z.boolean().optional(),
});

const n = new Intl.NumberFormat('en-US');
const when = (iso: string | null): string => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '—');

function relative(iso: string | null, now: number): string {
  if (!iso) return '—';
  const ms = Date.parse(iso) - now;
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const text = minutes < 1 ? 'now' : minutes < 120 ? `${minutes}m` : `${Math.round(minutes / 60)}h`;
  return ms >= 0 ? (text === 'now' ? 'due now' : `in ${text}`) : 'due now';
}

/** The completeness gap: what the source says it holds minus what is stored (null: the source gives no count). */
export function gapOf(row: Pick<SyncStatusRow, 'source_count' | 'stored_count'>): number | null {
  if (row.source_count === null || row.stored_count === null) return null;
  return Number(row.source_count) - Number(row.stored_count);
}

function streamLine(runtime: Runtime, row: SyncStatusRow, now: number): string {
  const gap = gapOf(row);
  const status = row.status === 'waiting' && row.wait_reason ? `waiting (${row.wait_reason})` : row.status;
  const cells = [
    row.stream.padEnd(18),
    status.padEnd(12),
    `${n.format(Number(row.records_total))} records`.padEnd(18),
    `last ok ${when(row.last_success_at)}`.padEnd(29),
    `next ${relative(row.next_run_at, now)}`.padEnd(14),
    `at ${describeCheckpoint(runtime.plugins, row)}`,
  ];
  if (gap !== null) cells.push(`gap ${n.format(gap)} (source ${n.format(Number(row.source_count))}, stored ${n.format(Number(row.stored_count))})`);
  if (Number(row.rejected_total) > 0) cells.push(`${n.format(Number(row.rejected_total))} rejected`);
  const line = `    ${cells.join('  ')}`;
  return row.last_error_message && row.status !== 'idle' ? `${line}\n      ${row.last_error_code ?? ''}: ${row.last_error_message}` : line;
}

export const statusCommand: Command = {
  summary: 'Installations, every stream’s sync state, completeness gaps and dead-lettered syncs',
  usage: '[--tenant SLUG] [--json]',
  options: {
    tenant: { type: 'string', valueName: 'slug', doc: 'Only this tenant' },
    json: { type: 'boolean', doc: 'Machine-readable output' },
  },
  async run(values) {
    const args = parseArguments(StatusArgs, values);
    const runtime = await openRuntime({ name: 'status', migrate: false });
    try {
      const fork = () => runtime.db.fork();
      const pending = await runtime.db.pendingMigrations();
      const tenants = (await createTenantDirectory(fork).list()).filter((t) => !args.tenant || t.slug === args.tenant);
      if (args.tenant && tenants.length === 0) throw invalidInput('arguments', [{ path: ['--tenant'], message: `no tenant '${args.tenant}'` }]);
      const installations = createInstallationDirectory(fork);
      const streams = pending.length === 0 ? await listSyncStatus(runtime.db.sql) : [];
      const report = [];
      for (const tenant of tenants) {
        const list = await installations.listForTenant(tenant.id);
        report.push({ tenant, installations: list.map((i) => ({ ...i, streams: streams.filter((s) => s.installation_id === i.id) })) });
      }
      const dead = streams.filter((s) => s.status === 'dead' && tenants.some((t) => t.id === s.tenant_id));
      const database = runtime.db.embedded ? `embedded database in ${runtime.config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
      if (args.json) {
        console.log(JSON.stringify({ database, pendingMigrations: pending, tenants: report, deadLettered: dead }, null, 2));
        return 0;
      }
      const now = Date.now();
      console.log(`Ledgerline — ${database}; migrations ${pending.length === 0 ? 'up to date' : `${pending.length} pending (run \`ledgerline migrate\`)`}`);
      console.log(`Plugins: ${runtime.plugins.map((p) => p.connector.id).join(', ') || 'none in the manifest'}`);
      for (const { tenant, installations: list } of report) {
        console.log(`\nTenant ${tenant.slug} (${tenant.name})`);
        if (list.length === 0) console.log('  no installations');
        for (const inst of list) {
          console.log(`  ${inst.platform} ${inst.platformAccountId} "${inst.accountName ?? ''}"  ${inst.status}  id ${inst.id}`);
          if (inst.streams.length === 0) console.log('    never synced');
          for (const row of inst.streams) console.log(streamLine(runtime, row, now));
        }
      }
      console.log(dead.length === 0 ? '\nDead-lettered syncs: none' : `\nDead-lettered syncs (retries exhausted; fix the cause, then \`ledgerline sync --installation ID --stream NAME\`):`);
      for (const row of dead) console.log(`  ${row.platform} ${row.platform_account_id} ${row.stream}: ${row.last_error_code ?? ''} ${row.last_error_message ?? ''}`);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
