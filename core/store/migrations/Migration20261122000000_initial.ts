import { Migration } from '@mikro-orm/migrations';

/** Tenants, installations, source records, activities and profiles. */
export class Migration20261122000000_initial extends Migration {
  override up(): void {
    this.addSql(`create table tenant (
      id uuid not null default gen_random_uuid() primary key,
      slug text not null,
      name text not null,
      created_at timestamptz not null default now(),
      constraint tenant_slug_unique unique (slug)
    )`);

    this.addSql(`create table installation (
      id uuid not null default gen_random_uuid() primary key,
      tenant_id uuid not null,
      platform text not null,
      platform_account_id text not null,
      display_name text not null,
      api_base_url text not null,
      status text not null default 'active' check (status in ('active', 'needs_reauth', 'uninstalled')),
      scopes text[] not null default '{}',
      sealed_tokens text null,
      token_expires_at timestamptz null,
      install_params jsonb not null default '{}',
      installed_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      uninstalled_at timestamptz null,
      constraint installation_tenant_account_unique unique (tenant_id, platform, platform_account_id)
    )`);
    this.addSql(`alter table installation add constraint installation_tenant_id_foreign foreign key (tenant_id) references tenant (id) on delete cascade`);

    this.addSql(`create table source_record (
      id bigserial primary key,
      tenant_id uuid not null,
      installation_id uuid not null,
      object_type text not null,
      external_id text not null,
      platform_updated_at timestamptz null,
      content_hash text not null,
      payload jsonb not null,
      canonical jsonb null,
      first_seen_at timestamptz not null default now(),
      last_changed_at timestamptz not null default now(),
      deleted_at timestamptz null,
      constraint source_record_key unique (installation_id, object_type, external_id)
    )`);

    this.addSql(`create table activity (
      id bigserial primary key,
      tenant_id uuid not null,
      installation_id uuid not null,
      kind text not null,
      category text not null,
      occurred_at timestamptz not null,
      subject_kind text not null,
      subject_object_type text not null,
      subject_external_id text not null,
      driver_type text null,
      driver_object_type text null,
      driver_external_id text null,
      source_object_type text not null,
      source_external_id text not null,
      discriminator text not null,
      amount numeric(20,4) null,
      currency text null,
      summary text not null,
      actor text null,
      attributes jsonb not null default '{}',
      recorded_at timestamptz not null default now(),
      constraint activity_source_key unique (installation_id, source_object_type, source_external_id, discriminator)
    )`);
    this.addSql(`create index activity_subject_time on activity (tenant_id, subject_object_type, subject_external_id, occurred_at)`);

    this.addSql(`create table person (
      id uuid not null default gen_random_uuid() primary key,
      tenant_id uuid not null,
      display_name text null,
      primary_email text null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql(`alter table person add constraint person_tenant_id_foreign foreign key (tenant_id) references tenant (id) on delete cascade`);

    this.addSql(`create table account (
      id uuid not null default gen_random_uuid() primary key,
      tenant_id uuid not null,
      name text null,
      domain text null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql(`alter table account add constraint account_tenant_id_foreign foreign key (tenant_id) references tenant (id) on delete cascade`);
  }
}
