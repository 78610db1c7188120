import { Migration } from '@mikro-orm/migrations';

/**
 * Summary snapshots: a person's account activity summary as last computed, so a panel view reads
 * one row instead of recomputing it from every activity (see core/panels/summary-snapshot.ts).
 *
 * `summary_change` is how a snapshot learns it is out of date without any writer knowing about
 * snapshots: statement-level triggers on the tables a summary reads (activities, source records,
 * identity memberships) record, for every record (`<installation>/<type>/<external id>`) and
 * profile (`profile/<id>`) a statement touched, the writing transaction's id. A snapshot stores
 * the tokens it was computed from and its statement's MVCC snapshot (`computed_snapshot`, with its
 * xmin for the index); it is current only while every change to one of its tokens was visible to
 * that statement — a transaction still running or started since makes it out of date. The rows
 * are only ever inserted (no row lock, so concurrent syncs never wait on one another here); the
 * refresh job drops those below `summary_horizon` that every stored snapshot saw.
 */
export class Migration20261202001300_summary_snapshots extends Migration {
  override up(): void {
    this.addSql(`create table summary_change (
      -- No foreign key: deleting a tenant cascades to its activities, whose trigger writes here.
      tenant_id uuid not null,
      token text not null,
      xid xid8 not null
    )`);
    this.addSql(`create index summary_change_token on summary_change (tenant_id, token, xid)`);
    this.addSql(`create table summary_snapshot (
      tenant_id uuid not null references tenant (id) on delete cascade,
      installation_id uuid not null references installation (id) on delete cascade,
      object_type text not null,
      external_id text not null,
      timeline_limit integer not null,
      computed_at timestamptz not null,
      computed_xmin xid8 not null,
      computed_snapshot pg_snapshot not null,
      valid_until timestamptz not null,
      tokens text[] not null,
      member_installations uuid[] not null,
      member_types text[] not null,
      member_ids text[] not null,
      key_ids uuid[] not null,
      sealed bytea not null,
      primary key (tenant_id, installation_id, object_type, external_id, timeline_limit)
    )`);
    this.addSql(`create index summary_snapshot_tokens on summary_snapshot using gin (tokens)`);
    // Change rows below the horizon may be dropped; a snapshot computed below it is not stored
    // (it could have missed a dropped change). One row, raised by compaction.
    this.addSql(`create table summary_horizon (only_row boolean primary key default true check (only_row), xid xid8 not null)`);
    this.addSql(`insert into summary_horizon (xid) values ('0')`);
    this.addSql(`create function summary_changed() returns trigger language plpgsql as $$
begin
  if TG_TABLE_NAME = 'activity' then
    insert into summary_change (tenant_id, token, xid)
    select distinct tenant_id, installation_id || '/' || subject_object_type || '/' || subject_external_id, pg_current_xact_id() from changed;
    if TG_OP = 'UPDATE' then
      insert into summary_change (tenant_id, token, xid)
      select distinct tenant_id, installation_id || '/' || subject_object_type || '/' || subject_external_id, pg_current_xact_id() from changed_before;
    end if;
  elsif TG_TABLE_NAME = 'identity_member' then
    insert into summary_change (tenant_id, token, xid)
    select distinct tenant_id, token, pg_current_xact_id() from (
      select tenant_id, installation_id || '/' || object_type || '/' || external_id as token from changed
      union all select tenant_id, 'profile/' || profile_id from changed) t;
    if TG_OP = 'UPDATE' then
      insert into summary_change (tenant_id, token, xid)
      select distinct tenant_id, 'profile/' || profile_id, pg_current_xact_id() from changed_before;
    end if;
  else
    insert into summary_change (tenant_id, token, xid)
    select distinct tenant_id, installation_id || '/' || object_type || '/' || external_id, pg_current_xact_id() from changed;
  end if;
  return null;
end $$`);
    for (const table of ['activity', 'source_record', 'identity_member']) {
      this.addSql(`create trigger ${table}_summary_insert after insert on ${table} referencing new table as changed for each statement execute function summary_changed()`);
      this.addSql(
        `create trigger ${table}_summary_update after update on ${table} referencing old table as changed_before new table as changed for each statement execute function summary_changed()`,
      );
      this.addSql(`create trigger ${table}_summary_delete after delete on ${table} referencing old table as changed for each statement execute function summary_changed()`);
    }
  }

  override down(): void {
    for (const table of ['activity', 'source_record', 'identity_member']) {
      for (const op of ['insert', 'update', 'delete']) this.addSql(`drop trigger ${table}_summary_${op} on ${table}`);
    }
    this.addSql(`drop function summary_changed()`);
    this.addSql(`drop table summary_horizon`);
    this.addSql(`drop table summary_snapshot`);
    this.addSql(`drop table summary_change`);
  }
}
