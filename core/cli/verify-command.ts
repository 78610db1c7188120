import { z } from 'zod';
import { createLedgerService, ledgerOptionsFrom } from '../ledger/ledger-service.ts';
import type { VerifyReport } from '../ledger/verify.ts';
import { parseArguments, type Command } from './commands.ts';
import { TenantSlugArg, tenantsFor } from './tenant-arg.ts';
import { openRuntime } from './runtime.ts';

const VerifyArgs = z.strictObject({
  tenant: TenantSlugArg.optional(),
  json: z.boolean().optional(),
});

const n = new Intl.NumberFormat('en-US');

function line(slug: string, r: VerifyReport): string {
  const checkpoints = r.checkpoints.checked === 0 ? 'no signed checkpoints yet' : `${n.format(r.checkpoints.checked)} signed checkpoint${r.checkpoints.checked === 1 ? '' : 's'} (newest at entry ${n.format(r.checkpoints.newestSeq ?? 0)})`;
  const head = `${slug}: ${n.format(r.verified)} of ${n.format(Math.max(r.lastSeq, r.headSeq))} entries verified, ${checkpoints}`;
  const problems = [...(r.firstBreak ? [`BROKEN at entry ${n.format(r.firstBreak.seq)}: ${r.firstBreak.reason}`] : []), ...r.checkpoints.problems.map((p) => `checkpoint problem: ${p}`)];
  return problems.length === 0 ? `${head} — intact` : `${head}\n  ${problems.join('\n  ')}`;
}

export const verifyCommand: Command = {
  summary: "Re-hashes each tenant's ledger chain, holds it against the signed checkpoints, and names the first entry that does not hold",
  usage: '[--tenant SLUG] [--json]',
  options: {
    tenant: { type: 'string', valueName: 'slug', doc: 'Only this tenant' },
    json: { type: 'boolean', doc: 'Machine-readable output' },
  },
  async run(values) {
    const args = parseArguments(VerifyArgs, values);
    const runtime = await openRuntime({ name: 'verify', migrate: false });
    try {
      const pending = await runtime.db.pendingMigrations();
      if (pending.length > 0) {
        console.error(`ledgerline verify: the database has ${pending.length} pending migration${pending.length === 1 ? '' : 's'}; run \`ledgerline migrate\` first`);
        return 1;
      }
      const tenants = await tenantsFor('verify', runtime.db, args.tenant);
      if (!tenants) return 1;
      const ledger = createLedgerService({ sql: runtime.db.sql, ...ledgerOptionsFrom(runtime.config) });
      const reports: (VerifyReport & { tenant: string })[] = [];
      for (const tenant of tenants) reports.push({ tenant: tenant.slug, ...(await ledger.verify(tenant.id)) });
      const ok = reports.every((r) => r.ok);
      if (args.json) console.log(JSON.stringify({ ok, tenants: reports }, null, 2));
      else {
        console.log(`Ledger verification — checkpoints in ${runtime.config.ledgerCheckpointDir}`);
        for (const r of reports) console.log(line(r.tenant, r));
        console.log(ok ? 'All chains intact.' : 'A chain does not verify: see above.');
      }
      return ok ? 0 : 1;
    } finally {
      await runtime.close();
    }
  },
};
