import { Migration } from '@mikro-orm/migrations';

/**
 * Reports: custom templates and saved segments per tenant, acquisition spend (for CAC), schedules,
 * and the request-to-delivery workflow — each request with its rendered files, its secure links and
 * its SLA timers. Every state a request passes through is also a ledger entry (core/reports).
 */
export class Migration20261202001100_reports extends Migration {
  override up(): void {
    // Period aggregations over a whole tenant (reports, the report bench) read by time.
    this.addSql(`create index activity_tenant_time on activity (tenant_id, occurred_at)`);
    // Identity resolution reads the records changed since its last run.
    this.addSql(`create index source_record_changed on source_record (tenant_id, last_changed_at)`);
    this.addSql(`create table report_template (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      slug text not null check (slug ~ '^[a-z][a-z0-9-]{0,62}$'),
      definition jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      updated_by text not null,
      constraint report_template_slug unique (tenant_id, slug)
    )`);
    this.addSql(`create table segment (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      slug text not null check (slug ~ '^[a-z][a-z0-9-]{0,62}$'),
      definition jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      updated_by text not null,
      constraint segment_slug unique (tenant_id, slug)
    )`);
    this.addSql(`create table acquisition_spend (
      tenant_id uuid not null references tenant (id) on delete cascade,
      spent_on date not null,
      channel text not null check (length(channel) between 1 and 100),
      currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
      amount numeric(20,4) not null check (amount >= 0),
      imported_at timestamptz not null default now(),
      imported_by text not null,
      primary key (tenant_id, spent_on, channel, currency)
    )`);
    this.addSql(`create table report_schedule (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      template_slug text not null,
      parameters jsonb not null,
      recipient text not null,
      delivery text not null check (delivery in ('attachment', 'link', 'portal')),
      cadence text not null check (cadence in ('daily', 'weekly', 'monthly')),
      time_zone text not null,
      local_time text not null check (local_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
      weekday smallint null check (weekday between 1 and 7),
      day_of_month smallint null check (day_of_month between 1 and 28),
      enabled boolean not null default true,
      next_run_at timestamptz not null,
      last_run_at timestamptz null,
      created_at timestamptz not null default now(),
      created_by text not null
    )`);
    this.addSql(`create index report_schedule_due on report_schedule (next_run_at) where enabled`);
    this.addSql(`create table report_request (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      template_slug text not null,
      parameters jsonb not null,
      format text not null check (format in ('html', 'pdf', 'csv', 'json')),
      requested_by text not null,
      requested_via text not null check (requested_via in ('console', 'api', 'cli', 'panel', 'agent', 'schedule')),
      on_behalf_of text null,
      recipient text null,
      delivery text not null check (delivery in ('attachment', 'link', 'portal')),
      schedule_id uuid null references report_schedule (id) on delete set null,
      status text not null check (status in ('requested', 'generated', 'blocked', 'delivered', 'acknowledged', 'disputed', 'escalated', 'failed')),
      status_reason text null,
      quality jsonb null,
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      generate_due_at timestamptz not null,
      acknowledge_due_at timestamptz null,
      generated_at timestamptz null,
      delivered_at timestamptz null,
      acknowledged_at timestamptz null,
      acknowledged_by text null,
      disputed_at timestamptz null,
      dispute_reason text null,
      escalated_at timestamptz null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`);
    this.addSql(`create index report_request_pending on report_request (next_attempt_at) where status = 'requested'`);
    this.addSql(`create index report_request_by_tenant on report_request (tenant_id, created_at desc)`);
    this.addSql(`create table report_file (
      request_id uuid not null references report_request (id) on delete cascade,
      format text not null check (format in ('html', 'pdf', 'csv', 'json')),
      file_name text not null,
      content_type text not null,
      content bytea not null,
      sha256 text not null check (length(sha256) = 64),
      created_at timestamptz not null default now(),
      primary key (request_id, format)
    )`);
    this.addSql(`create table report_link (
      id uuid primary key default gen_random_uuid(),
      request_id uuid not null references report_request (id) on delete cascade,
      token_hash text not null unique check (length(token_hash) = 64),
      code_hash text null,
      expires_at timestamptz not null,
      failed_attempts integer not null default 0,
      last_opened_at timestamptz null,
      revoked_at timestamptz null,
      created_at timestamptz not null default now()
    )`);
  }
}
