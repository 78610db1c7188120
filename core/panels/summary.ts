/**
 * The account activity summary: one query model behind every host panel, the console preview and
 * (extended by the reports) the account activity report. It reads only what syncs stored: the
 * activities and the canonical records of source objects.
 *
 * Subjects: a person is their record plus the records the platform merged into it (HubSpot merged
 * contacts) plus every record identity resolution put in the same profile, in any installation;
 * an account is its records (resolved the same way) plus every person who belongs to one of them;
 * a driver (deal, ticket) is everyone its activities are about, plus the driver itself.
 *
 * Figures (the README's "Summary figures" section states the same):
 * - lifetime value: won purchases, payments and renewals minus refunds, all time, per currency;
 * - activity count and counts per kind: activities in the period;
 * - last contact: the newest interaction (any time);
 * - RFM: recency = whole days since the newest activity; frequency = interactions and transactions
 *   in the period; monetary = lifetime value restricted to the period;
 * - open items: drivers whose newest state (`attributes.driverState`) is open and whose record is
 *   not deleted;
 * - churn risk: the sum of the weights of the reasons that apply, capped at 100 (see `churnRisk`).
 */
import { LedgerlineError } from '../errors/index.ts';
import type { PanelSubject } from '../contract/index.ts';
import { activityKinds, type ActivityKind } from '../model/index.ts';
import { openActivityFields, type StoredActivityFields, type SubjectKeyring } from '../privacy/index.ts';
import type { SqlSession } from '../store/index.ts';
import type { AccountSummary, SummaryTimelineItem } from './summary-schema.ts';

type Sql = Pick<SqlSession, 'query'>;

export interface SummaryRequest {
  readonly tenantId: string;
  /** The installation the subject is named in. */
  readonly installationId: string;
  readonly subject: PanelSubject;
  /** The period counts and RFM cover; the last 365 days when omitted. */
  readonly period?: { readonly from: Date; readonly to: Date };
  /** Timeline length (default 50, at most 500). */
  readonly limit?: number;
  readonly now?: Date;
  /** Where the full report lives in the console. */
  readonly reportUrl: string;
}

interface Member {
  readonly installation_id: string;
  readonly object_type: string;
  readonly external_id: string;
}

interface SubjectRow {
  readonly installation_id: string;
  readonly object_type: string;
  readonly external_id: string;
  readonly canonical: { persons?: { displayName?: string | null; email?: string | null; mergedFrom?: string[] }[]; accounts?: { name?: string | null }[] } | null;
  readonly deleted_at: string | null;
}

const dayMs = 86_400_000;
const iso = (value: string | Date): string => new Date(value).toISOString();

/** The other records of the subject's resolved profile, in any installation of the tenant (none before resolution). */
async function profileMembers(sql: Sql, tenantId: string, self: Member): Promise<Member[]> {
  return sql.query<Member>(
    `select m.installation_id, m.object_type, m.external_id from identity_member me
       join identity_member m on m.tenant_id = me.tenant_id and m.profile_id = me.profile_id
      where me.tenant_id = $1 and me.installation_id = $2 and me.object_type = $3 and me.external_id = $4
      limit 5000`,
    [tenantId, self.installation_id, self.object_type, self.external_id],
  );
}

function unique(members: readonly Member[]): Member[] {
  const seen = new Map<string, Member>();
  for (const m of members) seen.set(`${m.installation_id}/${m.object_type}/${m.external_id}`, m);
  return [...seen.values()];
}

/** The canonical records of one subject and the members (subject records) it covers. */
async function membersOf(sql: Sql, request: SummaryRequest): Promise<{ members: Member[]; displayName: string; email: string | null }> {
  const { tenantId, installationId, subject } = request;
  const [own] = await sql.query<SubjectRow>(
    `select installation_id, object_type, external_id, canonical, deleted_at from source_record
      where tenant_id = $1 and installation_id = $2 and object_type = $3 and external_id = $4`,
    [tenantId, installationId, subject.objectType, subject.externalId],
  );
  // A record the installation never synced has no history yet: say so instead of an empty summary.
  if (!own) throw new LedgerlineError('LL_NOT_FOUND', `${subject.objectType} ${subject.externalId} has not been synced from this installation yet`, { details: { field: 'objectId' } });
  const self: Member = { installation_id: installationId, object_type: subject.objectType, external_id: subject.externalId };
  if (subject.kind === 'person') {
    const person = own?.canonical?.persons?.[0];
    const aliases = (person?.mergedFrom ?? []).map((id): Member => ({ installation_id: installationId, object_type: subject.objectType, external_id: id }));
    const profile = await profileMembers(sql, tenantId, self);
    return { members: unique([self, ...aliases, ...profile]), displayName: person?.displayName ?? person?.email ?? `${subject.objectType} ${subject.externalId}`, email: person?.email ?? null };
  }
  if (subject.kind === 'account') {
    // The account as resolved across installations, and everyone who belongs to any of its records.
    const accounts = unique([self, ...(await profileMembers(sql, tenantId, self))]);
    const people = await sql.query<Member>(
      `select r.installation_id, r.object_type, r.external_id from source_record r
         join unnest($2::uuid[], $3::text[], $4::text[]) as a(installation_id, object_type, external_id)
           on r.installation_id = a.installation_id
          and r.canonical -> 'persons' -> 0 -> 'account' ->> 'objectType' = a.object_type
          and r.canonical -> 'persons' -> 0 -> 'account' ->> 'externalId' = a.external_id
        where r.tenant_id = $1 and r.deleted_at is null
        limit 5000`,
      [tenantId, accounts.map((a) => a.installation_id), accounts.map((a) => a.object_type), accounts.map((a) => a.external_id)],
    );
    return { members: unique([...accounts, ...people]), displayName: own?.canonical?.accounts?.[0]?.name ?? `${subject.objectType} ${subject.externalId}`, email: null };
  }
  // A driver: whoever its activities are about.
  const involved = await sql.query<Member & { title: string | null }>(
    `select distinct on (subject_object_type, subject_external_id) installation_id, subject_object_type as object_type, subject_external_id as external_id,
            attributes -> 'driverState' ->> 'title' as title
       from activity
      where tenant_id = $1 and installation_id = $2 and driver_object_type = $3 and driver_external_id = $4
      order by subject_object_type, subject_external_id, occurred_at desc
      limit 500`,
    [tenantId, installationId, subject.objectType, subject.externalId],
  );
  const title = involved.find((m) => m.title !== null)?.title ?? `${subject.objectType} ${subject.externalId}`;
  return { members: involved.map(({ installation_id, object_type, external_id }) => ({ installation_id, object_type, external_id })), displayName: title, email: null };
}

interface ActivityRow {
  readonly id: string;
  readonly installation_id: string;
  readonly platform: string;
  readonly kind: ActivityKind;
  readonly category: string;
  readonly occurred_at: string;
  readonly summary: string | null;
  readonly actor: string | null;
  readonly personal: string | null;
  readonly attributes: Record<string, unknown>;
  readonly discriminator: string;
  readonly amount: string | null;
  readonly currency: string | null;
  readonly source_object_type: string;
  readonly source_external_id: string;
  readonly driver_type: string | null;
  readonly driver_object_type: string | null;
  readonly driver_external_id: string | null;
}

/** The columns the personal fields of a stored activity are read back from. */
const storedFields = (row: { installation_id: string; source_object_type: string; source_external_id: string; discriminator: string; personal: string | null; summary: string | null; actor: string | null; attributes: Record<string, unknown> }): StoredActivityFields => ({
  installationId: row.installation_id,
  sourceObjectType: row.source_object_type,
  sourceExternalId: row.source_external_id,
  discriminator: row.discriminator,
  personal: row.personal,
  summary: row.summary,
  actor: row.actor,
  attributes: row.attributes,
});

/** Members as three parallel arrays, for `unnest` (one index probe per member). */
function memberArrays(members: readonly Member[]): [string[], string[], string[]] {
  return [members.map((m) => m.installation_id), members.map((m) => m.object_type), members.map((m) => m.external_id)];
}

const membersCte = `with members as (select distinct * from unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)),
  mine as (
    select a.* from members m
      join activity a on a.tenant_id = $1 and a.subject_object_type = m.object_type and a.subject_external_id = m.external_id and a.installation_id = m.installation_id
  )`;

/** The summary's SQL for one subject and period: what panels, the console preview and reports share. */
export async function buildSummary(sql: Sql, keyring: SubjectKeyring, request: SummaryRequest): Promise<AccountSummary> {
  const now = request.now ?? new Date();
  const period = request.period ?? { from: new Date(now.getTime() - 365 * dayMs), to: now };
  const limit = Math.min(Math.max(request.limit ?? 50, 1), 500);
  const { members, displayName, email } = await membersOf(sql, request);
  const driverFilter = request.subject.kind === 'driver' ? [request.subject.objectType, request.subject.externalId] : [null, null];
  const base = [request.tenantId, ...memberArrays(members)];

  // Driver subjects also count activities under the driver whose subject is someone else's record.
  const scoped = `${membersCte},
  scoped as (
    select * from mine
    union
    select a.* from activity a where a.tenant_id = $1 and $5::text is not null and a.driver_object_type = $5 and a.driver_external_id = $6
  )`;
  const params = [...base, ...driverFilter];

  const timeline = await sql.query<ActivityRow>(
    `${scoped}
     select s.id::text, s.installation_id, i.platform, s.kind, s.category, s.occurred_at, s.summary, s.actor, s.personal, s.attributes, s.discriminator,
            s.amount::text, s.currency, s.source_object_type, s.source_external_id, s.driver_type, s.driver_object_type, s.driver_external_id
       from scoped s join installation i on i.id = s.installation_id and i.tenant_id = $1
      where s.occurred_at >= $7 and s.occurred_at <= $8
      order by s.occurred_at desc, s.id desc
      limit $9`,
    [...params, period.from.toISOString(), period.to.toISOString(), limit + 1],
  );

  const [figures] = await sql.query<{ counts: Record<string, number> | null; last_contact: string | null; last_activity: string | null; frequency: string }>(
    `${scoped}
     select (select jsonb_object_agg(kind, n) from (select kind, count(*) as n from scoped where occurred_at >= $7 and occurred_at <= $8 group by kind) k) as counts,
            (select max(occurred_at) from scoped where kind = 'interaction') as last_contact,
            (select max(occurred_at) from scoped where occurred_at <= $8) as last_activity,
            (select count(*) from scoped where kind in ('interaction', 'transaction') and occurred_at >= $7 and occurred_at <= $8)::text as frequency`,
    [...params, period.from.toISOString(), period.to.toISOString()],
  );

  // Money in: won purchases, payments and renewals; money out: refunds.
  const money = await sql.query<{ currency: string; lifetime: string; in_period: string }>(
    `${scoped}
     select currency,
            sum(case when category = 'refund' then -amount else amount end)::text as lifetime,
            coalesce(sum(case when occurred_at >= $7 and occurred_at <= $8 then (case when category = 'refund' then -amount else amount end) end), 0)::text as in_period
       from scoped
      where amount is not null and currency is not null
        and ((kind = 'transaction' and category in ('purchase', 'payment', 'refund')) or (kind = 'subscription' and category = 'renewal'))
      group by currency
      order by sum(case when category = 'refund' then -amount else amount end) desc`,
    [...params, period.from.toISOString(), period.to.toISOString()],
  );

  const drivers = await sql.query<{ installation_id: string; platform: string; driver_type: string; driver_object_type: string; driver_external_id: string; state: { title?: string; status?: string; open?: boolean }; opened_at: string | null; amount: string | null; currency: string | null; priority: string | null }>(
    `${scoped},
     latest as (
       select distinct on (installation_id, driver_object_type, driver_external_id)
              installation_id, driver_type, driver_object_type, driver_external_id, attributes -> 'driverState' as state, attributes ->> 'priority' as priority
         from scoped
        where driver_external_id is not null and attributes ? 'driverState'
        order by installation_id, driver_object_type, driver_external_id, occurred_at desc, id desc
     )
     select l.installation_id, i.platform, l.driver_type, l.driver_object_type, l.driver_external_id, l.state, l.priority,
            (select min(occurred_at) from scoped o where o.installation_id = l.installation_id and o.driver_object_type = l.driver_object_type
                and o.driver_external_id = l.driver_external_id) as opened_at,
            (select max(amount)::text from scoped o where o.installation_id = l.installation_id and o.driver_object_type = l.driver_object_type
                and o.driver_external_id = l.driver_external_id) as amount,
            (select max(currency) from scoped o where o.installation_id = l.installation_id and o.driver_object_type = l.driver_object_type
                and o.driver_external_id = l.driver_external_id) as currency
       from latest l
       join installation i on i.id = l.installation_id and i.tenant_id = $1
      where (l.state ->> 'open')::boolean
        and not exists (select 1 from source_record r where r.tenant_id = $1 and r.installation_id = l.installation_id and r.object_type = l.driver_object_type
                           and r.external_id = l.driver_external_id and r.deleted_at is not null)
      order by opened_at desc nulls last
      limit 100`,
    params,
  );

  const alertsRows = await sql.query<{ category: string; summary: string | null; actor: string | null; personal: string | null; attributes: Record<string, unknown>; installation_id: string; source_object_type: string; source_external_id: string; discriminator: string; occurred_at: string }>(
    `${scoped}
     select category, summary, actor, personal, attributes, installation_id, source_object_type, source_external_id, discriminator, occurred_at from scoped
      where kind = 'security_alert' and occurred_at >= $7
      order by occurred_at desc limit 5`,
    [...params, new Date(now.getTime() - 30 * dayMs).toISOString()],
  );

  const recentTickets = await sql.query<{ n: string; cancellations: string; refunds: string }>(
    `${scoped}
     select (select count(*) from (select 1 from scoped where driver_type = 'ticket'
                                     group by installation_id, driver_object_type, driver_external_id
                                     having min(occurred_at) >= $7) opened)::text as n,
            count(*) filter (where category = 'cancellation' and occurred_at >= $8)::text as cancellations,
            count(*) filter (where category = 'refund' and occurred_at >= $8)::text as refunds
       from scoped`,
    [...params, new Date(now.getTime() - 30 * dayMs).toISOString(), new Date(now.getTime() - 90 * dayMs).toISOString()],
  );

  const installationIds = [...new Set([...members.map((m) => m.installation_id), request.installationId])];
  const sources = await sql.query<{ platform: string; installation_id: string; account_name: string; last_synced_at: string | null; status: string | null }>(
    `select i.platform, i.id as installation_id, i.display_name as account_name,
            (select min(last_success_at) from sync_state s where s.installation_id = i.id) as last_synced_at,
            (select (array_agg(status order by case status when 'dead' then 0 when 'failed' then 1 when 'running' then 2 when 'waiting' then 3 else 4 end))[1]
               from sync_state s where s.installation_id = i.id) as status
       from installation i where i.tenant_id = $1 and i.id = any($2::uuid[])
      order by i.platform`,
    [request.tenantId, installationIds],
  );
  const platformOf = new Map(sources.map((s) => [s.installation_id, s.platform]));
  const subjectPlatform = platformOf.get(request.installationId) ?? 'unknown';

  const truncated = timeline.length > limit;
  const shown = timeline.slice(0, limit);
  const exec = (text: string, values?: readonly unknown[]) => sql.query(text, values);
  const personal = await openActivityFields(exec, keyring, request.tenantId, [...shown, ...alertsRows].map(storedFields));
  const alertTexts = personal.slice(shown.length);
  const items: SummaryTimelineItem[] = shown.map((row, i) => ({
    id: row.id,
    kind: row.kind,
    category: row.category,
    occurredAt: iso(row.occurred_at),
    summary: personal[i]!.summary,
    actor: personal[i]!.actor,
    amount: row.amount !== null && row.currency !== null ? { value: trimDecimal(row.amount), currency: row.currency.trim() } : null,
    source: { platform: row.platform, installationId: row.installation_id, objectType: row.source_object_type, externalId: row.source_external_id },
    driver: row.driver_type !== null && row.driver_object_type !== null && row.driver_external_id !== null ? { type: row.driver_type, objectType: row.driver_object_type, externalId: row.driver_external_id } : null,
  }));

  const countsByKind = Object.fromEntries(activityKinds.map((k) => [k, Number(figures?.counts?.[k] ?? 0)])) as Record<ActivityKind, number>;
  const lastActivity = figures?.last_activity ? new Date(figures.last_activity) : null;
  const lastContact = figures?.last_contact ? new Date(figures.last_contact) : null;
  const openItems = drivers.map((d) => ({
    type: d.driver_type,
    title: d.state.title ?? `${d.driver_object_type} ${d.driver_external_id}`,
    status: d.state.status ?? 'Open',
    openedAt: d.opened_at ? iso(d.opened_at) : null,
    amount: d.amount !== null && d.currency !== null ? { value: trimDecimal(d.amount), currency: d.currency.trim() } : null,
    source: { platform: d.platform, installationId: d.installation_id, objectType: d.driver_object_type, externalId: d.driver_external_id },
  }));
  const risk = churnRisk({
    now,
    lastContact,
    lastActivity,
    openTickets: Number(recentTickets[0]?.n ?? 0),
    highPriorityOpen: drivers.filter((d) => d.driver_type === 'ticket' && ['HIGH', 'URGENT'].includes(d.priority?.toUpperCase() ?? '')).length,
    cancellations: Number(recentTickets[0]?.cancellations ?? 0),
    refunds: Number(recentTickets[0]?.refunds ?? 0),
    hasHistory: lastActivity !== null,
  });

  // Notifications about this customer that nobody has acknowledged yet (an obligation still open).
  const notifications = await sql.query<{ message: string; status: string; due_at: string | null; created_at: string }>(
    `select n.message, n.status, n.due_at, n.created_at from notification n
       join unnest($2::uuid[], $3::text[], $4::text[]) as m(installation_id, object_type, external_id)
         on n.subject ->> 'installationId' = m.installation_id::text and n.subject ->> 'objectType' = m.object_type and n.subject ->> 'externalId' = m.external_id
      where n.tenant_id = $1 and n.status <> 'acknowledged' and n.created_at >= $5
      order by n.created_at desc limit 10`,
    [...base, new Date(now.getTime() - 30 * dayMs).toISOString()],
  );
  const alerts: AccountSummary['alerts'] = [
    ...alertsRows.map((a, i) => ({ severity: 'critical' as const, message: alertTexts[i]!.summary, occurredAt: iso(a.occurred_at) })),
    ...notifications.map((n) => ({
      severity: n.status === 'dead' || n.status === 'escalated' ? ('critical' as const) : ('warning' as const),
      message:
        n.status === 'dead'
          ? `${n.message} (the notification could not be delivered)`
          : n.due_at
            ? `${n.message} (to be acknowledged by ${iso(n.due_at)}${n.status === 'escalated' ? '; escalated' : ''})`
            : n.message,
      occurredAt: iso(n.created_at),
    })),
    ...(risk.level === 'high' ? [{ severity: 'warning' as const, message: `High churn risk: ${risk.reasons.join('; ')}`, occurredAt: null }] : []),
    ...sources
      .filter((s) => s.status === 'dead' || s.status === 'failed' || (s.last_synced_at !== null && now.getTime() - new Date(s.last_synced_at).getTime() > dayMs))
      .map((s) => ({ severity: 'info' as const, message: `${s.platform} data may be out of date (${s.status === 'dead' || s.status === 'failed' ? `sync ${s.status}` : `last synced ${iso(s.last_synced_at ?? now)}`})`, occurredAt: null })),
  ];

  return {
    subject: {
      kind: request.subject.kind === 'driver' ? (request.subject.type === 'ticket' ? 'ticket' : 'deal') : request.subject.kind,
      displayName,
      email,
      source: { platform: subjectPlatform, installationId: request.installationId, objectType: request.subject.objectType, externalId: request.subject.externalId },
    },
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    generatedAt: now.toISOString(),
    kpis: {
      lifetimeValue: money.filter((m) => Number(m.lifetime) !== 0).map((m) => ({ value: trimDecimal(m.lifetime), currency: m.currency.trim() })),
      activityCount: Object.values(countsByKind).reduce((a, b) => a + b, 0),
      openItems: openItems.length,
      lastContactAt: lastContact ? lastContact.toISOString() : null,
      churnRisk: risk,
      rfm: {
        recencyDays: lastActivity ? Math.floor((now.getTime() - lastActivity.getTime()) / dayMs) : null,
        frequency: Number(figures?.frequency ?? 0),
        monetary: money.filter((m) => Number(m.in_period) !== 0).map((m) => ({ value: trimDecimal(m.in_period), currency: m.currency.trim() })),
      },
    },
    countsByKind,
    timeline: items,
    timelineTruncated: truncated,
    openItems,
    alerts,
    sources: sources.map((s) => ({
      platform: s.platform,
      installationId: s.installation_id,
      accountName: s.account_name,
      lastSyncedAt: s.last_synced_at ? iso(s.last_synced_at) : null,
      status: s.status,
    })),
    reportUrl: request.reportUrl,
  };
}

/** `1200.5000` → `1200.5`. */
function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}

export interface ChurnSignals {
  readonly now: Date;
  readonly lastContact: Date | null;
  readonly lastActivity: Date | null;
  readonly openTickets: number;
  readonly highPriorityOpen: number;
  readonly cancellations: number;
  readonly refunds: number;
  readonly hasHistory: boolean;
}

/**
 * Rule-based churn risk. Weights: no contact for 90+ days 40 (60+ days 25); a cancellation in the
 * last 90 days 40; an open high-priority (high or urgent, any case) ticket 20; three or more tickets opened in 30 days 20; a
 * refund in the last 90 days 15. Level: high ≥ 60, medium ≥ 30, else low; unknown without history.
 */
export function churnRisk(signals: ChurnSignals): AccountSummary['kpis']['churnRisk'] {
  if (!signals.hasHistory) return { level: 'unknown', score: 0, reasons: ['no activity recorded yet'] };
  const reasons: [number, string][] = [];
  const silentDays = signals.lastContact ? Math.floor((signals.now.getTime() - signals.lastContact.getTime()) / dayMs) : null;
  if (silentDays === null || silentDays >= 90) reasons.push([40, silentDays === null ? 'no recorded contact' : `no contact for ${silentDays} days`]);
  else if (silentDays >= 60) reasons.push([25, `no contact for ${silentDays} days`]);
  if (signals.cancellations > 0) reasons.push([40, `${signals.cancellations} cancellation${signals.cancellations > 1 ? 's' : ''} in 90 days`]);
  if (signals.highPriorityOpen > 0) reasons.push([20, `${signals.highPriorityOpen} open high-priority ticket${signals.highPriorityOpen > 1 ? 's' : ''}`]);
  if (signals.openTickets >= 3) reasons.push([20, `${signals.openTickets} tickets opened in 30 days`]);
  if (signals.refunds > 0) reasons.push([15, `${signals.refunds} refund${signals.refunds > 1 ? 's' : ''} in 90 days`]);
  const score = Math.min(100, reasons.reduce((sum, [w]) => sum + w, 0));
  return { level: score >= 60 ? 'high' : score >= 30 ? 'medium' : 'low', score, reasons: reasons.map(([, r]) => r) };
}
