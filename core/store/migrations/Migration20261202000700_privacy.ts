import { Migration } from '@mikro-orm/migrations';

/**
 * Crypto-shredding: one data key per subject (wrapped under the deployment key), and activities
 * whose personal fields (summary, actor, the personal attributes) are sealed under it in
 * `personal`. Sealed rows keep `summary` and `actor` NULL; rows written earlier keep theirs.
 */
export class Migration20261202000700_privacy extends Migration {
  override up(): void {
    this.addSql(`create table subject_key (
      id uuid primary key,
      tenant_id uuid not null references tenant (id) on delete cascade,
      installation_id uuid not null,
      object_type text not null,
      external_id text not null,
      wrapped_key text null,
      created_at timestamptz not null default now(),
      erased_at timestamptz null,
      erased_by text null,
      constraint subject_key_subject unique (tenant_id, installation_id, object_type, external_id),
      constraint subject_key_erased check ((wrapped_key is null) = (erased_at is not null))
    )`);
    this.addSql(`alter table activity add column personal text null`);
    this.addSql(`alter table activity alter column summary drop not null`);
  }

  override down(): void {
    this.addSql(`alter table activity drop column personal`);
    this.addSql(`drop table subject_key`);
  }
}
