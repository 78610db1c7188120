import { z } from 'zod';
import { explainRecord, overrideIdentity, resolveTenant } from '../identity/identity-store.ts';
import { eraseSubject } from '../identity/subject-erasure.ts';
import { exportSubject } from '../identity/subject-export.ts';
import { invalidInput } from '../errors/index.ts';
import { parseArguments, type Command } from './commands.ts';
import { TenantSlugArg, tenantsFor } from './tenant-arg.ts';
import { openRuntime } from './runtime.ts';

const Args = z.strictObject({
  tenant: TenantSlugArg.optional(),
  installation: z.uuid('must be an installation id (a UUID)').optional(),
  by: z.string().trim().min(1).max(200).optional(),
  reason: z.string().trim().min(1).max(1000).optional(),
  json: z.boolean().optional(),
  yes: z.boolean().optional(),
});

export const identityCommand: Command = {
  summary:
    'Identity resolution: `resolve` recomputes profiles now; `explain <objectType>/<externalId>` prints why a record belongs to its profile; `merge` / `split` record an admin\'s decision about two records; `export` prints everything held about a person (data-subject request); `erase` destroys a person\'s data keys and personal data for good (right to erasure)',
  usage:
    'resolve [--tenant SLUG] | explain --tenant SLUG <objectType>/<externalId> [--installation ID] [--json] | merge|split --tenant SLUG --by NAME [--reason TEXT] <installationId>/<objectType>/<externalId> <installationId>/<objectType>/<externalId> | export --tenant SLUG --by NAME <installationId>/<objectType>/<externalId> | erase --tenant SLUG --by NAME --yes <installationId>/<objectType>/<externalId>',
  positionals: { min: 1, max: 3 },
  options: {
    tenant: { type: 'string', valueName: 'slug', doc: 'The tenant (all tenants for resolve when omitted)' },
    installation: { type: 'string', valueName: 'id', doc: 'Only the record of this installation' },
    json: { type: 'boolean', doc: 'Machine-readable output' },
    yes: { type: 'boolean', doc: 'Confirm an erasure (it cannot be undone)' },
    by: { type: 'string', valueName: 'name', doc: 'Who decides (merge, split, export, erase)' },
    reason: { type: 'string', valueName: 'text', doc: 'Why (merge, split)' },
  },
  async run(values, positionals) {
    const args = parseArguments(Args, values);
    const [action, record, second] = positionals;
    if (action !== 'resolve' && action !== 'explain' && action !== 'merge' && action !== 'split' && action !== 'export' && action !== 'erase') {
      throw invalidInput('arguments', [{ path: ['action'], message: `unknown action '${action}': use resolve, explain, merge, split, export or erase` }]);
    }
    if ((action === 'export' || action === 'erase') && (!record || !args.tenant || !args.by)) {
      throw invalidInput('arguments', [{ path: ['record'], message: `${action} needs --tenant, --by and a record as <installationId>/<objectType>/<externalId>` }]);
    }
    if (action === 'erase' && !args.yes) {
      throw invalidInput('arguments', [{ path: ['yes'], message: 'erase destroys the person\'s data keys and personal data and cannot be undone: add --yes to confirm' }]);
    }
    if ((action === 'merge' || action === 'split') && (!record || !second || !args.tenant || !args.by)) {
      throw invalidInput('arguments', [{ path: ['records'], message: `${action} needs --tenant, --by and two records as <installationId>/<objectType>/<externalId>` }]);
    }
    if (action === 'explain' && (!record || !/^[^/]+\/.+$/.test(record) || !args.tenant)) {
      throw invalidInput('arguments', [{ path: ['record'], message: 'explain needs --tenant and a record as <objectType>/<externalId>, e.g. contact/1000001' }]);
    }
    const runtime = await openRuntime({ name: 'identity', migrate: false });
    try {
      const tenants = await tenantsFor('identity', runtime.db, args.tenant);
      if (!tenants) return 1;
      if (action === 'export') {
        // Everything held about the person, as JSON on stdout (redirect it to a file).
        console.log(JSON.stringify(await exportSubject(runtime.db.sql, runtime.keyring, tenants[0]!.id, record!, args.by!), null, 2));
        return 0;
      }
      if (action === 'erase') {
        const result = await eraseSubject(runtime.db.sql, tenants[0]!.id, record!, args.by!);
        if (args.json) console.log(JSON.stringify(result));
        else {
          console.log(`Erased ${result.records.length} record(s) of ${record}: ${result.keysDestroyed} data key(s) destroyed; recorded as ledger entry ${result.ledgerSeq}`);
          if (result.unsealedActivities > 0) console.log(`  ${result.unsealedActivities} activities were stored before sealing and keep their text (see README, Erasure)`);
        }
        return 0;
      }
      if (action === 'merge' || action === 'split') {
        const result = await overrideIdentity(runtime.db.sql, tenants[0]!.id, { action, records: [record!, second!], by: args.by!, reason: args.reason ?? null });
        console.log(`${action === 'merge' ? 'Merged' : 'Split'} ${record} and ${second} (recorded on the ledger); ${args.tenant}: ${result.profiles} profiles, ${result.reviews} to review`);
        return 0;
      }
      if (action === 'resolve') {
        for (const tenant of tenants) {
          const result = await resolveTenant(runtime.db.sql, tenant.id);
          // The mode on a line of its own: scripts read the first line as it always was.
          const mode = result.mode === 'full' ? `full: all ${result.resolved} records resolved (${result.changed} changed)` : `incremental: ${result.changed} changed, ${result.resolved} resolved again`;
          console.log(args.json ? JSON.stringify({ tenant: tenant.slug, ...result }) : `${tenant.slug}: ${result.records} records → ${result.profiles} profiles (${result.merged} merged, ${result.split} split), ${result.reviews} to review\n  ${mode}`);
        }
        return 0;
      }
      const slash = record!.indexOf('/');
      const explained = await explainRecord(runtime.db.sql, tenants[0]!.id, record!.slice(0, slash), record!.slice(slash + 1), args.installation);
      if (explained.length === 0) {
        console.error(`ledgerline identity: ${record} has no profile in ${args.tenant} (not synced, or not resolved yet: run \`ledgerline identity resolve\`)`);
        return 1;
      }
      if (args.json) console.log(JSON.stringify(explained, null, 2));
      else {
        for (const e of explained) {
          console.log(`${e.record} belongs to ${e.kind} profile ${e.profileId}${e.displayName ? ` (${e.displayName})` : ''}, named after ${e.anchor}:`);
          for (const m of e.members) {
            console.log(`  ${m.key}${m.key === e.anchor ? '  — anchor' : ''}${m.evidence ? `  — ${m.evidence.rule} ${m.evidence.value}, joined to ${m.evidence.with}` : ''}`);
          }
          for (const r of e.reviews) console.log(`  to review: ${r.rule} ${r.value} (${r.records.join(', ')}): ${r.reason}`);
        }
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
