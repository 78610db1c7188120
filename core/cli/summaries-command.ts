import { z } from 'zod';
import { invalidInput } from '../errors/index.ts';
import { compactSummaryChanges, refreshSummaries } from '../panels/summary-refresh.ts';
import { parseArguments, type Command } from './commands.ts';
import { untilSignal } from './process-signals.ts';
import { openRuntime } from './runtime.ts';
import { TenantSlugArg, tenantsFor } from './tenant-arg.ts';

const Args = z.strictObject({
  tenant: TenantSlugArg.optional(),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  json: z.boolean().optional(),
});

export const summariesCommand: Command = {
  summary:
    'Summary snapshots: `refresh` recomputes now every person\'s snapshot that is missing or out of date (serve and worker do it every LEDGERLINE_SUMMARY_REFRESH_SECONDS) and compacts the change log',
  usage: 'refresh [--tenant SLUG] [--limit N] [--json]',
  positionals: { min: 1, max: 1 },
  options: {
    tenant: { type: 'string', valueName: 'slug', doc: 'The tenant (all tenants when omitted)' },
    limit: { type: 'string', valueName: 'n', doc: 'At most this many snapshots per tenant (default: all that need it)' },
    json: { type: 'boolean', doc: 'Machine-readable output, one line per tenant' },
  },
  async run(values, positionals) {
    const args = parseArguments(Args, values);
    const [action] = positionals;
    if (action !== 'refresh') throw invalidInput('arguments', [{ path: ['action'], message: `unknown action '${action}': use refresh` }]);
    const runtime = await openRuntime({ name: 'summaries', migrate: false });
    const stop = untilSignal();
    const stopping = (): boolean => stop.signal.aborted;
    try {
      const tenants = await tenantsFor('summaries', runtime.db, args.tenant);
      if (!tenants) return 1;
      let failures = 0;
      for (const tenant of tenants) {
        const started = performance.now();
        let shown = 0;
        const result = await refreshSummaries(runtime.db.sql, runtime.keyring, tenant.id, {
          limit: args.limit ?? Number.MAX_SAFE_INTEGER,
          stopping,
          // Progress on stderr every 1,000 snapshots, so a first refresh of a large tenant is not silent.
          onBatch: (refreshed) => {
            if (args.json || refreshed - shown < 1_000) return;
            shown = refreshed;
            console.error(`  ${tenant.slug}: ${refreshed.toLocaleString('en-US')} computed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
          },
        });
        const seconds = (performance.now() - started) / 1000;
        if (args.json) console.log(JSON.stringify({ tenant: tenant.slug, ...result, seconds: Number(seconds.toFixed(2)) }));
        else {
          console.log(
            `${tenant.slug}: ${result.refreshed.toLocaleString('en-US')} snapshots computed in ${seconds.toFixed(1)} s; ${result.current.toLocaleString('en-US')} people current, ${result.remaining.toLocaleString('en-US')} not`,
          );
        }
        for (const f of result.failed) console.error(`  ${tenant.slug}: ${f.record} failed: ${f.error}`);
        failures += result.failed.length;
        if (stopping()) return 130;
      }
      const compacted = await compactSummaryChanges(runtime.db.sql);
      if (!args.json && compacted > 0) console.log(`${compacted.toLocaleString('en-US')} change rows compacted`);
      return failures > 0 ? 1 : 0;
    } finally {
      stop.dispose();
      await runtime.close();
    }
  },
};
