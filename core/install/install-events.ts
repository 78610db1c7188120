/**
 * An installation's life — installed, reinstalled, backfill scheduled, uninstalled, revoked,
 * revoke failed, needs reinstall — kept twice in one transaction: as a row the console lists, and
 * as an entry on the tenant's ledger (`install.<kind>`), which nobody can quietly rewrite.
 */
import { appendEntries, type LedgerExecutor } from '../ledger/ledger.ts';

export type InstallEventKind = 'installed' | 'reinstalled' | 'uninstalled' | 'revoked' | 'revoke_failed' | 'backfill_scheduled' | 'needs_reauth';

export async function recordInstallEvent(
  exec: LedgerExecutor,
  event: { tenantId: string; installationId: string; kind: InstallEventKind; detail: Record<string, unknown> },
): Promise<void> {
  await exec(`insert into installation_event (tenant_id, installation_id, kind, detail) values ($1, $2, $3, $4)`, [event.tenantId, event.installationId, event.kind, JSON.stringify(event.detail)]);
  const [installation] = await exec(`select platform, platform_account_id from installation where id = $1 and tenant_id = $2`, [event.installationId, event.tenantId]);
  await appendEntries(exec, event.tenantId, [
    {
      kind: `install.${event.kind}`,
      body: { installationId: event.installationId, platform: installation?.platform ?? null, platformAccountId: installation?.platform_account_id ?? null, ...event.detail },
    },
  ]);
}
