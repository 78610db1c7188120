/**
 * Triggers and notifications. Rules read the tenant's ledger (activities appended since their
 * cursor), fire notifications — one per channel, once per firing (a repeat is suppressed, and
 * recorded as such) — that are delivered by e-mail (SMTP) or signed webhook with retries, go to a
 * dead letter after the last attempt, and, where the rule asks for it, must be acknowledged by a
 * due time or escalate. Every one of those states is an entry on the tenant's ledger: nothing
 * fails, is retried, suppressed or escalated silently.
 */
import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { Logger } from '../contract/index.ts';
import { LedgerlineError, toLedgerlineError } from '../errors/index.ts';
import { runPeriodically, type Periodic } from '../scheduling/periodic.ts';
import { appendEntries, type LedgerEntryInput, type LedgerExecutor } from '../ledger/ledger.ts';
import { openActivityFields, type SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { matches, quietMinutesLeft, RuleDefinition, type Channel } from './rules.ts';
import { postWebhook, type HostResolver } from './webhook-post.ts';

export interface DeliveryOptions {
  /** SMTP transport (nodemailer); without one, e-mail notifications fail with that reason. */
  readonly mail: Transporter | null;
  readonly mailFrom: string;
  /** Lets webhooks reach internal addresses (LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS); refused otherwise, also after DNS. */
  readonly allowPrivateTargets?: boolean;
  /** Resolves webhook host names (the system resolver when omitted). */
  readonly resolver?: HostResolver;
  readonly maxAttempts?: number;
  readonly retryBaseMs?: number;
}

interface ActivityBody {
  kind: string;
  category: string;
  installationId: string;
  occurredAt: string;
  subject: { kind: string; objectType: string; externalId: string };
  source: { objectType: string; externalId: string };
  discriminator: string;
  attributes: Record<string, unknown>;
  /** Sealed personal fields; entries written before sealing carry `summary` instead. */
  personal?: string | null;
  summary?: string;
  amount: { value: string; currency: string } | null;
}

const exec =
  (tx: Pick<SqlSession, 'query'>): LedgerExecutor =>
  (sql, params) =>
    tx.query(sql, params);

/** Reads the activities appended since the tenant's cursor and fires the rules they match. */
export async function evaluateTriggers(sql: SqlSession, keyring: SubjectKeyring, tenantId: string, now: Date = new Date()): Promise<{ queued: number; suppressed: number }> {
  return sql.transaction(async (tx) => {
    await tx.query(`insert into trigger_cursor (tenant_id, last_seq) values ($1, 0) on conflict (tenant_id) do nothing`, [tenantId]);
    const [cursor] = await tx.query<{ last_seq: string }>(`select last_seq::text as last_seq from trigger_cursor where tenant_id = $1 for update`, [tenantId]);
    const rules = (await tx.query<{ id: string; name: string; definition: unknown }>(`select id, name, definition from trigger_rule where tenant_id = $1 and enabled order by created_at, id`, [tenantId])).flatMap((r) => {
      const parsed = RuleDefinition.safeParse(r.definition);
      return parsed.success ? [{ id: r.id, name: r.name, definition: parsed.data }] : [];
    });
    const entries = await tx.query<{ seq: string; body: ActivityBody }>(
      `select seq::text as seq, body from ledger_entry where tenant_id = $1 and kind = 'activity' and seq > $2 order by seq limit 2000`,
      [tenantId, Number(cursor!.last_seq)],
    );
    if (entries.length === 0) return { queued: 0, suppressed: 0 };
    // The message names what happened; it is read from the sealed fields and kept only on the
    // notification row (which an erasure can clear), never copied into the ledger.
    const texts = await openActivityFields(exec(tx), keyring, tenantId, entries.map(({ body: a }) => ({
      installationId: a.installationId,
      sourceObjectType: a.source.objectType,
      sourceExternalId: a.source.externalId,
      discriminator: a.discriminator,
      personal: a.personal ?? null,
      summary: a.summary ?? null,
      actor: null,
      attributes: a.attributes,
    })));
    const platforms = new Map((await tx.query<{ id: string; platform: string }>(`select id, platform from installation where tenant_id = $1`, [tenantId])).map((r) => [r.id, r.platform]));
    const ledger: LedgerEntryInput[] = [];
    let queued = 0;
    let suppressed = 0;
    for (const [index, entry] of entries.entries()) {
      const a = entry.body;
      const facts = { kind: a.kind, category: a.category, platform: platforms.get(a.installationId) ?? null, amount: a.amount };
      for (const rule of rules) {
        if (!matches(rule.definition, facts)) continue;
        let windowKey = `seq:${entry.seq}`;
        if (rule.definition.threshold) {
          const t = rule.definition.threshold;
          const [counted] = await tx.query<{ n: string }>(
            `select count(*)::text as n from activity
              where tenant_id = $1 and subject_object_type = $2 and subject_external_id = $3 and installation_id = $4
                and ($5::text is null or kind = $5) and ($6::text is null or category = $6)
                and occurred_at > $7::timestamptz - make_interval(mins => $8) and occurred_at <= $7::timestamptz`,
            [tenantId, a.subject.objectType, a.subject.externalId, a.installationId, rule.definition.match.kind ?? null, rule.definition.match.category ?? null, a.occurredAt, t.withinMinutes],
          );
          if (Number(counted!.n) < t.count) continue;
          // One notification per customer and window, however many activities cross the threshold in it.
          windowKey = `window:${Math.floor(Date.parse(a.occurredAt) / (t.withinMinutes * 60_000))}`;
        }
        const message = `${rule.name}: ${texts[index]!.summary}`;
        for (const [i, channel] of rule.definition.channels.entries()) {
          const dedupeKey = `${rule.id}:${i}:${a.installationId}/${a.subject.objectType}/${a.subject.externalId}:${windowKey}`;
          const [inserted] = await tx.query<{ id: string }>(
            `insert into notification (tenant_id, rule_id, dedupe_key, channel, subject, message, status, next_attempt_at)
             values ($1, $2, $3, $4, $5, $6, 'queued', $7) on conflict (tenant_id, dedupe_key) do nothing returning id`,
            [tenantId, rule.id, dedupeKey, JSON.stringify(channel), JSON.stringify({ installationId: a.installationId, ...a.subject }), message, now.toISOString()],
          );
          if (inserted) {
            queued += 1;
            ledger.push({ kind: 'notification.queued', body: { notificationId: inserted.id, ruleId: rule.id, rule: rule.name, channel: describeChannel(channel), subject: { installationId: a.installationId, ...a.subject }, triggeredBy: Number(entry.seq) } });
          } else {
            suppressed += 1;
            ledger.push({ kind: 'notification.suppressed', body: { ruleId: rule.id, rule: rule.name, channel: describeChannel(channel), reason: 'already notified for this customer and firing', dedupeKey, triggeredBy: Number(entry.seq) } });
          }
        }
      }
    }
    await tx.query(`update trigger_cursor set last_seq = $2 where tenant_id = $1`, [tenantId, Number(entries.at(-1)!.seq)]);
    await appendEntries(exec(tx), tenantId, ledger, now);
    return { queued, suppressed };
  });
}

/** What the ledger says of a channel: where it went, never its secret. */
function describeChannel(channel: Channel): Record<string, unknown> {
  return channel.type === 'email' ? { type: 'email', to: channel.to } : { type: 'webhook', url: channel.url };
}

interface NotificationRow {
  id: string;
  tenant_id: string;
  rule_id: string;
  channel: Channel;
  subject: Record<string, unknown>;
  message: string;
  attempts: number;
  definition: unknown;
}

async function send(row: NotificationRow, options: DeliveryOptions, recipients?: string[]): Promise<void> {
  const channel = recipients ? ({ type: 'email', to: recipients } as const) : row.channel;
  if (channel.type === 'email') {
    if (!options.mail) throw new LedgerlineError('LL_UNAVAILABLE', 'no SMTP server is configured (LEDGERLINE_SMTP_URL)');
    await options.mail.sendMail({
      from: options.mailFrom,
      to: channel.to,
      subject: `[Ledgerline] ${row.message.slice(0, 150)}`,
      text: `${row.message}\n\nCustomer: ${JSON.stringify(row.subject)}\nNotification: ${row.id}\n`,
      headers: { 'X-Ledgerline-Notification': row.id },
    });
    return;
  }
  const body = JSON.stringify({ notificationId: row.id, message: row.message, subject: row.subject });
  const timestamp = String(Date.now());
  const signature = createHmac('sha256', channel.secret).update(`${timestamp}.${body}`).digest('hex');
  const status = await postWebhook(channel.url, {
    headers: { 'content-type': 'application/json', 'x-ledgerline-timestamp': timestamp, 'x-ledgerline-signature': `sha256=${signature}` },
    body,
    timeoutMs: 10_000,
    allowPrivate: options.allowPrivateTargets ?? false,
    ...(options.resolver ? { resolver: options.resolver } : {}),
  });
  if (status < 200 || status > 299) throw new LedgerlineError('LL_UPSTREAM', `the webhook answered HTTP ${status}`);
}

/** Sends what is due; each outcome is recorded on the notification and on the ledger. */
export async function deliverNotifications(sql: SqlSession, options: DeliveryOptions, now: Date = new Date()): Promise<{ sent: number; failed: number; dead: number; held: number }> {
  const maxAttempts = options.maxAttempts ?? 5;
  const baseMs = options.retryBaseMs ?? 30_000;
  // Claimed first (a sender that dies leaves 'sending' rows that become due again after 5 minutes).
  const claimed = await sql.query<NotificationRow>(
    `update notification n set status = 'sending', updated_at = now(), next_attempt_at = $1::timestamptz + interval '5 minutes'
      from trigger_rule r
      where n.id in (select id from notification where status in ('queued', 'failed', 'sending') and next_attempt_at <= $1 order by next_attempt_at limit 50 for update skip locked)
        and r.id = n.rule_id
      returning n.id, n.tenant_id, n.rule_id, n.channel, n.subject, n.message, n.attempts, r.definition`,
    [now.toISOString()],
  );
  const result = { sent: 0, failed: 0, dead: 0, held: 0 };
  for (const row of claimed) {
    const rule = RuleDefinition.safeParse(row.definition);
    const quiet = rule.success && rule.data.quietHours ? quietMinutesLeft(rule.data.quietHours, now) : 0;
    if (quiet > 0) {
      // Held, not dropped: it goes out when the quiet hours end, and the ledger says so.
      const until = new Date(now.getTime() + quiet * 60_000).toISOString();
      await sql.transaction(async (tx) => {
        await tx.query(`update notification set status = 'queued', next_attempt_at = $2, updated_at = now() where id = $1`, [row.id, until]);
        await appendEntries(exec(tx), row.tenant_id, [{ kind: 'notification.held', body: { notificationId: row.id, reason: 'quiet hours', until } }], now);
      });
      result.held += 1;
      continue;
    }
    const attempt = row.attempts + 1;
    let error: string | null = null;
    try {
      await send(row, options);
    } catch (thrown) {
      error = toLedgerlineError(thrown).message;
    }
    const definition = RuleDefinition.safeParse(row.definition);
    const ackMinutes = definition.success ? definition.data.acknowledge?.withinMinutes : undefined;
    await sql.transaction(async (tx) => {
      if (error === null) {
        const dueAt = ackMinutes ? new Date(now.getTime() + ackMinutes * 60_000).toISOString() : null;
        await tx.query(`update notification set status = 'sent', attempts = $2, last_error = null, due_at = $3, updated_at = now() where id = $1`, [row.id, attempt, dueAt]);
        await appendEntries(exec(tx), row.tenant_id, [{ kind: 'notification.sent', body: { notificationId: row.id, attempt, channel: describeChannel(row.channel), ...(dueAt ? { acknowledgeBy: dueAt } : {}) } }], now);
        result.sent += 1;
      } else if (attempt >= maxAttempts) {
        await tx.query(`update notification set status = 'dead', attempts = $2, last_error = $3, updated_at = now() where id = $1`, [row.id, attempt, error]);
        await appendEntries(exec(tx), row.tenant_id, [{ kind: 'notification.dead', body: { notificationId: row.id, attempt, channel: describeChannel(row.channel), reason: error } }], now);
        result.dead += 1;
      } else {
        const retryAt = new Date(now.getTime() + baseMs * 2 ** (attempt - 1)).toISOString();
        await tx.query(`update notification set status = 'failed', attempts = $2, last_error = $3, next_attempt_at = $4, updated_at = now() where id = $1`, [row.id, attempt, error, retryAt]);
        await appendEntries(exec(tx), row.tenant_id, [{ kind: 'notification.failed', body: { notificationId: row.id, attempt, channel: describeChannel(row.channel), reason: error, retryAt } }], now);
        result.failed += 1;
      }
    });
  }
  return result;
}

/** Sent notifications past their due time without acknowledgement escalate to the rule's next recipients. */
export async function escalateOverdue(sql: SqlSession, options: DeliveryOptions, now: Date = new Date()): Promise<number> {
  const overdue = await sql.query<NotificationRow & { due_at: string }>(
    `select n.id, n.tenant_id, n.rule_id, n.channel, n.subject, n.message, n.attempts, n.due_at, r.definition
       from notification n join trigger_rule r on r.id = n.rule_id
      where n.status = 'sent' and n.due_at is not null and n.due_at < $1 and n.acknowledged_at is null`,
    [now.toISOString()],
  );
  for (const row of overdue) {
    const definition = RuleDefinition.safeParse(row.definition);
    const escalateTo = definition.success ? (definition.data.acknowledge?.escalateTo ?? []) : [];
    await sql.transaction(async (tx) => {
      const [changed] = await tx.query<{ id: string }>(`update notification set status = 'escalated', escalated_at = $2, updated_at = now() where id = $1 and status = 'sent' returning id`, [row.id, now.toISOString()]);
      if (!changed) return;
      const [escalation] = await tx.query<{ id: string }>(
        `insert into notification (tenant_id, rule_id, dedupe_key, channel, subject, message, status, next_attempt_at)
         values ($1, $2, $3, $4, $5, $6, 'queued', $7) on conflict (tenant_id, dedupe_key) do nothing returning id`,
        [row.tenant_id, row.rule_id, `${row.id}:escalation`, JSON.stringify({ type: 'email', to: escalateTo }), JSON.stringify(row.subject), `Not acknowledged by ${new Date(row.due_at).toISOString()}: ${row.message}`, now.toISOString()],
      );
      await appendEntries(exec(tx), row.tenant_id, [{ kind: 'notification.escalated', body: { notificationId: row.id, dueAt: new Date(row.due_at).toISOString(), escalationId: escalation?.id ?? null, to: escalateTo } }], now);
    });
  }
  return overdue.length;
}

export async function acknowledgeNotification(sql: SqlSession, tenantId: string, id: string, by: string, now: Date = new Date()): Promise<void> {
  await sql.transaction(async (tx) => {
    const [row] = await tx.query<{ status: string }>(`select status from notification where id = $1 and tenant_id = $2 for update`, [id, tenantId]);
    if (!row) throw new LedgerlineError('LL_NOT_FOUND', `no notification ${id} in this tenant`);
    if (row.status !== 'sent' && row.status !== 'escalated') throw new LedgerlineError('LL_CONFLICT', `notification ${id} is ${row.status}: only a sent or escalated notification can be acknowledged`);
    await tx.query(`update notification set status = 'acknowledged', acknowledged_at = $3, acknowledged_by = $4, updated_at = now() where id = $1 and tenant_id = $2`, [id, tenantId, now.toISOString(), by]);
    await appendEntries(exec(tx), tenantId, [{ kind: 'notification.acknowledged', body: { notificationId: id, by, previousStatus: row.status } }], now);
  });
}

/** Evaluates, delivers and escalates every `everyMs`; a failure is logged as an error each time. */
export function scheduleNotifications(sql: SqlSession, keyring: SubjectKeyring, options: DeliveryOptions, everyMs: number, log: Logger): Periodic {
  return runPeriodically('notification processing', everyMs, log, async (stopping) => {
    const tenants = await sql.query<{ tenant_id: string }>(`select distinct tenant_id from trigger_rule where enabled`);
    for (const t of tenants) if (!stopping()) await evaluateTriggers(sql, keyring, t.tenant_id);
    const delivered = await deliverNotifications(sql, options);
    if (delivered.failed + delivered.dead > 0) log.warn(delivered, 'notification deliveries failed');
    await escalateOverdue(sql, options);
  });
}

/** The delivery options from configuration: an SMTP transport when LEDGERLINE_SMTP_URL is set. */
export async function deliveryOptionsFrom(config: { smtpUrl: string | undefined; mailFrom: string; allowPrivateWebhooks?: boolean }): Promise<DeliveryOptions> {
  const nodemailer = await import('nodemailer');
  return { mail: config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null, mailFrom: config.mailFrom, allowPrivateTargets: config.allowPrivateWebhooks ?? false };
}
