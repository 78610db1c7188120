import { Migration } from '@mikro-orm/migrations';

/**
 * Ledger archiving: `ledger_archive` registers each segment moved out of `ledger_entry` into a file
 * (its range, the hashes chaining into and out of it, the file's SHA-256) and is itself
 * append-only. DELETE on `ledger_entry` stays refused, except for rows a registered segment
 * covers: removing an entry from the hot table first needs a registration that verification then
 * holds the archive file to. A correction may name an archived entry, so `corrects` is checked to
 * point backwards instead of by a foreign key into the hot table.
 */
export class Migration20261202000800_ledger_archive extends Migration {
  override up(): void {
    this.addSql(`create table ledger_archive (
      tenant_id uuid not null references tenant (id),
      from_seq bigint not null check (from_seq > 0),
      to_seq bigint not null,
      first_prev_hash bytea not null check (length(first_prev_hash) = 32),
      last_hash bytea not null check (length(last_hash) = 32),
      entries integer not null,
      file text not null,
      file_sha256 bytea not null check (length(file_sha256) = 32),
      archived_at timestamptz not null default now(),
      primary key (tenant_id, from_seq),
      constraint ledger_archive_range check (to_seq >= from_seq and entries = to_seq - from_seq + 1)
    )`);
    this.addSql(`create trigger ledger_archive_append_only before update or delete on ledger_archive for each row execute function ledger_append_only()`);
    this.addSql(`create trigger ledger_archive_no_truncate before truncate on ledger_archive for each statement execute function ledger_append_only()`);
    this.addSql(`revoke update, delete, truncate on ledger_archive from public`);
    this.addSql(`create function ledger_entry_guard() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and exists (select 1 from ledger_archive a where a.tenant_id = old.tenant_id and old.seq between a.from_seq and a.to_seq) then
          return old;
        end if;
        raise exception '% on % refused: ledger rows are append-only; append a correcting entry instead', tg_op, tg_table_name
          using errcode = '42501';
      end
    $$`);
    this.addSql(`drop trigger ledger_entry_append_only on ledger_entry`);
    this.addSql(`create trigger ledger_entry_append_only before update or delete on ledger_entry for each row execute function ledger_entry_guard()`);
    this.addSql(`alter table ledger_entry drop constraint ledger_entry_corrects`);
    this.addSql(`alter table ledger_entry add constraint ledger_entry_corrects check (corrects is null or (corrects > 0 and corrects < seq))`);
  }
}
