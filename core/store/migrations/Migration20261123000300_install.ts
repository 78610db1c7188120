import { Migration } from '@mikro-orm/migrations';

/**
 * OAuth installs: the pending authorization requests (state, kept only as a hash, single use,
 * ten minutes), and every install, reinstall, uninstall and revoke outcome per installation, so an
 * uninstall whose revoke failed is visible rather than silent.
 */
export class Migration20261123000300_install extends Migration {
  override up(): void {
    this.addSql(`create table oauth_state (
      state_hash text primary key,
      tenant_id uuid not null references tenant (id) on delete cascade,
      plugin text not null,
      install_params jsonb not null default '{}',
      code_verifier text null,
      redirect_uri text not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null
    )`);
    this.addSql(`create table installation_event (
      id bigserial primary key,
      tenant_id uuid not null references tenant (id) on delete cascade,
      installation_id uuid not null references installation (id) on delete cascade,
      kind text not null check (kind in ('installed', 'reinstalled', 'uninstalled', 'revoked', 'revoke_failed', 'backfill_scheduled', 'needs_reauth')),
      detail jsonb not null default '{}',
      at timestamptz not null default now()
    )`);
    this.addSql(`create index installation_event_by_installation on installation_event (tenant_id, installation_id, at desc)`);
  }
}
