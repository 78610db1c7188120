import { Migration } from '@mikro-orm/migrations';

/**
 * The sync engine's state: per-stream checkpoints and leases, run history, rejected records,
 * webhook refresh hints, rate budgets shared across processes, and the token refresh lease.
 */
export class Migration20261122000100_sync extends Migration {
  override up(): void {
    this.addSql(`create table sync_state (
      installation_id uuid not null references installation (id) on delete cascade,
      stream text not null,
      tenant_id uuid not null,
      cursor jsonb null,
      -- goes up by one with every committed page: checkpoints never move backwards
      checkpoint_seq bigint not null default 0,
      status text not null default 'idle' check (status in ('idle', 'running', 'waiting', 'failed', 'dead')),
      wait_reason text null,
      mode text null,
      lease_owner text null,
      lease_until timestamptz null,
      run_started_at timestamptz null,
      run_finished_at timestamptz null,
      last_success_at timestamptz null,
      next_run_at timestamptz null,
      run_records bigint not null default 0,
      run_pages bigint not null default 0,
      run_total bigint null,
      records_total bigint not null default 0,
      rejected_total bigint not null default 0,
      last_error_code text null,
      last_error_message text null,
      last_error_at timestamptz null,
      source_count bigint null,
      stored_count bigint null,
      reconciled_at timestamptz null,
      updated_at timestamptz not null default now(),
      primary key (installation_id, stream)
    )`);
    this.addSql(`create index sync_state_tenant on sync_state (tenant_id)`);

    this.addSql(`create table sync_run (
      id bigserial primary key,
      tenant_id uuid not null,
      installation_id uuid not null references installation (id) on delete cascade,
      stream text not null,
      mode text not null,
      owner text not null,
      started_at timestamptz not null default clock_timestamp(),
      finished_at timestamptz null,
      outcome text not null default 'running' check (outcome in ('running', 'succeeded', 'failed')),
      records bigint not null default 0,
      pages bigint not null default 0,
      deleted bigint not null default 0,
      rejected bigint not null default 0,
      error_code text null,
      error_message text null
    )`);
    this.addSql(`create index sync_run_stream on sync_run (installation_id, stream, started_at desc)`);

    this.addSql(`create table sync_reject (
      id bigserial primary key,
      tenant_id uuid not null,
      installation_id uuid not null references installation (id) on delete cascade,
      stream text not null,
      external_id text null,
      problem text not null,
      message text not null,
      payload jsonb null,
      rejected_at timestamptz not null default clock_timestamp()
    )`);
    this.addSql(`create index sync_reject_stream on sync_reject (installation_id, stream, rejected_at desc)`);

    this.addSql(`create table refresh_hint (
      id bigserial primary key,
      tenant_id uuid not null,
      installation_id uuid not null references installation (id) on delete cascade,
      event_id text not null,
      stream text not null,
      external_id text not null,
      action text not null check (action in ('upsert', 'delete', 'merge')),
      merged_into text null,
      record jsonb null,
      occurred_at timestamptz not null,
      received_at timestamptz not null default clock_timestamp(),
      processed_at timestamptz null,
      outcome text null,
      constraint refresh_hint_event unique (installation_id, event_id)
    )`);
    this.addSql(`create index refresh_hint_pending on refresh_hint (installation_id, stream, id) where processed_at is null`);

    this.addSql(`create table rate_budget (
      installation_id uuid not null,
      bucket text not null,
      capacity double precision not null check (capacity > 0),
      per_ms double precision not null check (per_ms > 0),
      tokens double precision not null,
      refreshed_at timestamptz not null default clock_timestamp(),
      blocked_until timestamptz null,
      blocked_reason text null,
      throttle_streak integer not null default 0,
      primary key (installation_id, bucket)
    )`);

    this.addSql(`create table token_refresh_lease (
      installation_id uuid primary key,
      owner text not null,
      lease_until timestamptz not null
    )`);
  }
}
