import { Migration } from '@mikro-orm/migrations';

/**
 * Trigger rules, the cursor each tenant's rules have read the ledger up to, and notifications: one
 * per rule firing and channel, with its delivery attempts, acknowledgement obligation and
 * escalation. Every state a notification passes through is also a ledger entry.
 */
export class Migration20261123000600_triggers extends Migration {
  override up(): void {
    this.addSql(`create table trigger_rule (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      name text not null,
      definition jsonb not null,
      enabled boolean not null default true,
      created_at timestamptz not null default now()
    )`);
    this.addSql(`create table trigger_cursor (
      tenant_id uuid primary key references tenant (id) on delete cascade,
      last_seq bigint not null
    )`);
    this.addSql(`create table notification (
      id uuid primary key default gen_random_uuid(),
      tenant_id uuid not null references tenant (id) on delete cascade,
      rule_id uuid not null references trigger_rule (id) on delete cascade,
      dedupe_key text not null,
      channel jsonb not null,
      subject jsonb not null,
      message text not null,
      status text not null check (status in ('queued', 'sending', 'sent', 'failed', 'dead', 'acknowledged', 'escalated')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      last_error text null,
      due_at timestamptz null,
      acknowledged_at timestamptz null,
      acknowledged_by text null,
      escalated_at timestamptz null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint notification_once unique (tenant_id, dedupe_key)
    )`);
    this.addSql(`create index notification_due on notification (next_attempt_at) where status in ('queued', 'failed', 'sending')`);
    this.addSql(`create index notification_by_subject on notification (tenant_id, (subject ->> 'objectType'), (subject ->> 'externalId'))`);
  }
}
