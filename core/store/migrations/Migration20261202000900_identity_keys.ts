import { Migration } from '@mikro-orm/migrations';

/**
 * Incremental identity resolution: `identity_key` keeps the identifiers each resolved record held
 * at its last resolution (per rule, as `joinIdentifiers` gives them), so a later run can find every
 * record a changed one shared a value with — before or after the change — without reading the
 * whole tenant. E-mails, phones and domains are kept as a per-tenant digest, not in clear: equality
 * is all the search needs, and an erasure must not leave an address behind here. `identity_state`
 * remembers from when changes are still to be picked up and which options the last run used.
 */
export class Migration20261202000900_identity_keys extends Migration {
  override up(): void {
    this.addSql(`create table identity_key (
      tenant_id uuid not null references tenant (id) on delete cascade,
      kind text not null check (kind in ('person', 'account')),
      rule text not null,
      value text not null,
      installation_id uuid not null,
      object_type text not null,
      external_id text not null
    )`);
    this.addSql(`create index identity_key_by_value on identity_key (tenant_id, rule, value)`);
    this.addSql(`create index identity_key_by_record on identity_key (tenant_id, installation_id, object_type, external_id)`);
    this.addSql(`alter table identity_state add column changes_since timestamptz null, add column options_digest text null`);
  }
}
