import { Migration } from '@mikro-orm/migrations';

/**
 * Identity resolution's result: which profile (a `person` or `account` row) each source record
 * belongs to, by which rule and on what evidence; the joins it refused to make, for an admin to
 * review; the merges and splits admins made by hand; and when each tenant was last resolved.
 */
export class Migration20261123000500_identity extends Migration {
  override up(): void {
    this.addSql(`create table identity_member (
      tenant_id uuid not null references tenant (id) on delete cascade,
      installation_id uuid not null,
      object_type text not null,
      external_id text not null,
      kind text not null check (kind in ('person', 'account')),
      profile_id uuid not null,
      anchor text not null,
      rule text null,
      evidence jsonb null,
      primary key (tenant_id, installation_id, object_type, external_id)
    )`);
    this.addSql(`create index identity_member_by_profile on identity_member (tenant_id, profile_id)`);
    this.addSql(`create table identity_review (
      tenant_id uuid not null references tenant (id) on delete cascade,
      kind text not null,
      rule text not null,
      value text not null,
      records jsonb not null,
      reason text not null,
      first_seen_at timestamptz not null default now(),
      primary key (tenant_id, kind, rule, value)
    )`);
    this.addSql(`create table identity_override (
      tenant_id uuid not null references tenant (id) on delete cascade,
      action text not null check (action in ('merge', 'split')),
      a text not null,
      b text not null check (a < b),
      by text not null,
      reason text null,
      created_at timestamptz not null default now(),
      primary key (tenant_id, a, b)
    )`);
    this.addSql(`create table identity_state (
      tenant_id uuid primary key references tenant (id) on delete cascade,
      resolved_at timestamptz not null,
      records integer not null,
      profiles integer not null
    )`);
  }
}
