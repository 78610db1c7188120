/** Trigger rules and notifications as the API and the console read and change them, per tenant. */
import { z } from 'zod';
import { invalidInput } from '../errors/index.ts';
import { appendEntries } from '../ledger/ledger.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { acknowledgeNotification } from './notifications.ts';
import { NewRule, privateTarget, type Channel } from './rules.ts';

export interface RuleView {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly definition: unknown;
  readonly createdAt: string;
}

export interface NotificationView {
  readonly id: string;
  readonly ruleId: string;
  readonly status: string;
  readonly channel: Record<string, unknown>;
  readonly subject: Record<string, unknown>;
  readonly message: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly dueAt: string | null;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  readonly createdAt: string;
}

export interface TriggerService {
  rules(tenantId: string): Promise<RuleView[]>;
  createRule(tenantId: string, input: unknown): Promise<RuleView>;
  notifications(tenantId: string, status?: string): Promise<NotificationView[]>;
  acknowledge(tenantId: string, id: string, by: string): Promise<void>;
}

const iso = (v: string | Date | null): string | null => (v === null ? null : new Date(v).toISOString());
/** Webhook secrets never leave the store. */
const publicChannel = (c: Channel | Record<string, unknown>): Record<string, unknown> => {
  const { secret: _secret, ...rest } = c as Record<string, unknown>;
  return rest;
};
const publicDefinition = (d: { channels?: Channel[] } & Record<string, unknown>): Record<string, unknown> => ({ ...d, channels: (d.channels ?? []).map(publicChannel) });

export function createTriggerService(sql: SqlSession, options: { allowPrivateWebhooks?: boolean } = {}): TriggerService {
  return {
    async rules(tenantId) {
      const rows = await sql.query<{ id: string; name: string; enabled: boolean; definition: { channels?: Channel[] }; created_at: string }>(
        `select id, name, enabled, definition, created_at from trigger_rule where tenant_id = $1 order by created_at, id`,
        [tenantId],
      );
      return rows.map((r) => ({ id: r.id, name: r.name, enabled: r.enabled, definition: publicDefinition(r.definition), createdAt: iso(r.created_at)! }));
    },
    async createRule(tenantId, input) {
      const parsed = NewRule.safeParse(input);
      if (!parsed.success) throw invalidInput('trigger rule', parsed.error.issues);
      if (!options.allowPrivateWebhooks) {
        const issues = parsed.data.definition.channels.flatMap((c, i) => {
          const why = c.type === 'webhook' ? privateTarget(c.url) : null;
          return why ? [{ path: ['definition', 'channels', i, 'url'], message: `${why}; set LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS=true to allow internal targets` }] : [];
        });
        if (issues.length > 0) throw invalidInput('trigger rule', issues);
      }
      return sql.transaction(async (tx) => {
        const [row] = await tx.query<{ id: string; created_at: string }>(`insert into trigger_rule (tenant_id, name, definition, enabled) values ($1, $2, $3, $4) returning id, created_at`, [
          tenantId,
          parsed.data.name,
          JSON.stringify(parsed.data.definition),
          parsed.data.enabled,
        ]);
        const definition = publicDefinition(parsed.data.definition);
        // The rule itself is an admin change, and on the ledger.
        await appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'admin.trigger_rule_created', body: { ruleId: row!.id, name: parsed.data.name, enabled: parsed.data.enabled, definition } }]);
        return { id: row!.id, name: parsed.data.name, enabled: parsed.data.enabled, definition, createdAt: iso(row!.created_at)! };
      });
    },
    async notifications(tenantId, status) {
      const parsed = z.enum(['queued', 'sending', 'sent', 'failed', 'dead', 'acknowledged', 'escalated']).optional().safeParse(status);
      if (!parsed.success) throw invalidInput('status', parsed.error.issues);
      const rows = await sql.query<{
        id: string; rule_id: string; status: string; channel: Channel; subject: Record<string, unknown>; message: string; attempts: number; last_error: string | null;
        due_at: string | null; acknowledged_at: string | null; acknowledged_by: string | null; created_at: string;
      }>(
        `select id, rule_id, status, channel, subject, message, attempts, last_error, due_at, acknowledged_at, acknowledged_by, created_at
           from notification where tenant_id = $1 and ($2::text is null or status = $2) order by created_at desc, id limit 500`,
        [tenantId, parsed.data ?? null],
      );
      return rows.map((r) => ({
        id: r.id, ruleId: r.rule_id, status: r.status, channel: publicChannel(r.channel), subject: r.subject, message: r.message, attempts: r.attempts, lastError: r.last_error,
        dueAt: iso(r.due_at), acknowledgedAt: iso(r.acknowledged_at), acknowledgedBy: r.acknowledged_by, createdAt: iso(r.created_at)!,
      }));
    },
    acknowledge: (tenantId, id, by) => acknowledgeNotification(sql, tenantId, id, by),
  };
}
