import { z } from 'zod';
import { createLedgerService, ledgerOptionsFrom } from '../ledger/ledger-service.ts';
import { parseArguments, type Command } from './commands.ts';
import { TenantSlugArg, tenantsFor } from './tenant-arg.ts';
import { openRuntime } from './runtime.ts';

const ArchiveArgs = z.strictObject({
  tenant: TenantSlugArg.optional(),
  'older-than-days': z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(1, 'must be at least 1 day').optional(),
  json: z.boolean().optional(),
});

export const archiveCommand: Command = {
  summary:
    'Moves ledger entries older than the retention period out of the database into archive segment files (LEDGERLINE_LEDGER_ARCHIVE_DIR); `verify` keeps verifying them',
  usage: '[--older-than-days N] [--tenant SLUG] [--json]',
  options: {
    'older-than-days': { type: 'string', valueName: 'days', doc: 'Archive entries older than this (default LEDGERLINE_LEDGER_RETENTION_DAYS)' },
    tenant: { type: 'string', valueName: 'slug', doc: 'Only this tenant' },
    json: { type: 'boolean', doc: 'Machine-readable output' },
  },
  async run(values) {
    const args = parseArguments(ArchiveArgs, values);
    const runtime = await openRuntime({ name: 'archive', migrate: false });
    try {
      const days = args['older-than-days'] ?? runtime.config.ledgerRetentionDays;
      if (days === undefined) {
        console.error('ledgerline archive: give --older-than-days N, or set LEDGERLINE_LEDGER_RETENTION_DAYS');
        return 1;
      }
      const tenants = await tenantsFor('archive', runtime.db, args.tenant);
      if (!tenants) return 1;
      const ledger = createLedgerService({ sql: runtime.db.sql, ...ledgerOptionsFrom(runtime.config) });
      const olderThan = new Date(Date.now() - days * 86_400_000);
      const results = [];
      for (const tenant of tenants) {
        const [result] = await ledger.archive(olderThan, tenant.id);
        results.push({ tenant: tenant.slug, ...result! });
      }
      if (args.json) console.log(JSON.stringify({ olderThan: olderThan.toISOString(), archiveDir: runtime.config.ledgerArchiveDir, tenants: results }, null, 2));
      else {
        console.log(`Archiving ledger entries recorded before ${olderThan.toISOString()} into ${runtime.config.ledgerArchiveDir}`);
        for (const r of results) {
          console.log(r.archivedEntries === 0 ? `${r.tenant}: nothing old enough` : `${r.tenant}: ${r.archivedEntries} entries in ${r.segments.length} segment(s): ${r.segments.map((s) => `${s.fromSeq}–${s.toSeq}`).join(', ')}`);
        }
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
