import { Migration } from '@mikro-orm/migrations';

/**
 * The accountable ledger: per tenant, a hash chain of entries (sequence, previous hash, hash over
 * the entry's canonical JSON). The database itself refuses to change or remove an entry or an
 * activity — triggers on UPDATE, DELETE and TRUNCATE — and PUBLIC holds no such privileges; a
 * correction is a new entry that names the one it corrects. `ledger_head` is where appends for one
 * tenant queue behind each other (its row lock), without holding up other tenants.
 */
export class Migration20261123000400_ledger extends Migration {
  override up(): void {
    this.addSql(`create function ledger_append_only() returns trigger language plpgsql as $$
      begin
        raise exception '% on % refused: ledger rows are append-only; append a correcting entry instead', tg_op, tg_table_name
          using errcode = '42501';
      end
    $$`);
    this.addSql(`create table ledger_entry (
      tenant_id uuid not null references tenant (id),
      seq bigint not null check (seq > 0),
      kind text not null,
      body jsonb not null,
      corrects bigint null,
      recorded_at timestamptz not null,
      prev_hash bytea not null check (length(prev_hash) = 32),
      hash bytea not null check (length(hash) = 32),
      primary key (tenant_id, seq),
      constraint ledger_entry_corrects foreign key (tenant_id, corrects) references ledger_entry (tenant_id, seq)
    )`);
    this.addSql(`create index ledger_entry_by_driver on ledger_entry (tenant_id, (body -> 'driver' ->> 'objectType'), (body -> 'driver' ->> 'externalId'), seq)
                   where body ? 'driver'`);
    this.addSql(`create index ledger_entry_by_kind on ledger_entry (tenant_id, kind, seq)`);
    this.addSql(`create table ledger_head (
      tenant_id uuid primary key references tenant (id),
      seq bigint not null,
      hash bytea not null check (length(hash) = 32),
      updated_at timestamptz not null default now()
    )`);
    for (const table of ['ledger_entry', 'activity']) {
      this.addSql(`create trigger ${table}_append_only before update or delete on ${table} for each row execute function ledger_append_only()`);
      this.addSql(`create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function ledger_append_only()`);
      this.addSql(`revoke update, delete, truncate on ${table} from public`);
    }
  }
}
