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
import { openActivityFields, storedActivityFields, type SubjectKeyring, type WrappedSubjectKey } from '../privacy/index.ts';
import type { SqlSession } from '../store/index.ts';
import type { AccountSummary, SummaryTimelineItem } from './summary-schema.ts';
import { notificationsJson, notificationsSince, sourcesJson } from './summary-sql.ts';
import { readSnapshot, storeSnapshot } from './summary-snapshot.ts';

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
  /**
   * Read and keep a person's summary as a snapshot (default true; only the default period is kept);
   * `'missed'`: the caller has just found no current one, so keep it without looking again.
   */
  readonly snapshots?: boolean | 'missed';
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

/** Timeline rows a summary shows unless asked for another number. */
export const defaultTimelineLimit = 50;
const iso = (value: string | Date): string => new Date(value).toISOString();

/** The account's own record and the other records of its resolved profile, in one statement. */
interface OwnRow extends SubjectRow {
  /** `[installation_id, object_type, external_id]` of every record of the profile (none before resolution). */
  readonly profile: [string, string, string][];
}

function unique(members: readonly Member[]): Member[] {
  const seen = new Map<string, Member>();
  for (const m of members) seen.set(`${m.installation_id}/${m.object_type}/${m.external_id}`, m);
  return [...seen.values()];
}

const notSynced = (subject: PanelSubject): LedgerlineError =>
  new LedgerlineError('LL_NOT_FOUND', `${subject.objectType} ${subject.externalId} has not been synced from this installation yet`, { details: { field: 'objectId' } });

/**
 * The members (subject records) an account or a driver covers, and its name. An account is its
 * records as resolved across installations plus everyone who belongs to one of them; a driver is
 * whoever its activities are about. (A person's members are found by the summary statement.)
 */
async function membersOf(sql: Sql, request: SummaryRequest): Promise<{ members: Member[]; displayName: string; email: string | null }> {
  const { tenantId, installationId, subject } = request;
  if (subject.kind === 'driver') {
    const involved = await sql.query<Member & { title: string | null }>(
      `select distinct on (subject_object_type, subject_external_id) installation_id, subject_object_type as object_type, subject_external_id as external_id,
              attributes -> 'driverState' ->> 'title' as title
         from activity
        where tenant_id = $1 and installation_id = $2 and driver_object_type = $3 and driver_external_id = $4
        order by subject_object_type, subject_external_id, occurred_at desc
        limit 500`,
      [tenantId, installationId, subject.objectType, subject.externalId],
      { prepared: true },
    );
    const title = involved.find((m) => m.title !== null)?.title ?? `${subject.objectType} ${subject.externalId}`;
    return { members: involved.map(({ installation_id, object_type, external_id }) => ({ installation_id, object_type, external_id })), displayName: title, email: null };
  }
  const [own] = await sql.query<OwnRow>(
    `select r.installation_id, r.object_type, r.external_id, r.canonical, r.deleted_at,
            coalesce((select json_agg(json_build_array(m.installation_id, m.object_type, m.external_id))
                        from (select m.installation_id, m.object_type, m.external_id from identity_member me
                                join identity_member m on m.tenant_id = me.tenant_id and m.profile_id = me.profile_id
                               where me.tenant_id = r.tenant_id and me.installation_id = r.installation_id and me.object_type = r.object_type and me.external_id = r.external_id
                               limit 5000) m), '[]') as profile
       from source_record r
      where r.tenant_id = $1 and r.installation_id = $2 and r.object_type = $3 and r.external_id = $4`,
    [tenantId, installationId, subject.objectType, subject.externalId],
    { prepared: true },
  );
  if (!own) throw notSynced(subject);
  const self: Member = { installation_id: installationId, object_type: subject.objectType, external_id: subject.externalId };
  const accounts = unique([self, ...own.profile.map(([installation_id, object_type, external_id]): Member => ({ installation_id, object_type, external_id }))]);
  const people = await sql.query<Member>(
    `select r.installation_id, r.object_type, r.external_id from source_record r
       join unnest($2::uuid[], $3::text[], $4::text[]) as a(installation_id, object_type, external_id)
         on r.installation_id = a.installation_id
        and r.canonical -> 'persons' -> 0 -> 'account' ->> 'objectType' = a.object_type
        and r.canonical -> 'persons' -> 0 -> 'account' ->> 'externalId' = a.external_id
      where r.tenant_id = $1 and r.deleted_at is null
      limit 5000`,
    [tenantId, ...memberArrays(accounts)],
    { prepared: true },
  );
  return { members: unique([...accounts, ...people]), displayName: own.canonical?.accounts?.[0]?.name ?? `${subject.objectType} ${subject.externalId}`, email: null };
}

/** An activity as the summary statement returns it (timeline items and security alerts). */
export interface ActivityRow {
  readonly id: string;
  readonly installation_id: string;
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

export interface DriverRow {
  readonly installation_id: string;
  readonly driver_type: string;
  readonly driver_object_type: string;
  readonly driver_external_id: string;
  readonly state: { title?: string; status?: string; open?: boolean };
  readonly opened_at: string | null;
  readonly amount: string | null;
  readonly currency: string | null;
  readonly priority: string | null;
}

export interface SourceRow {
  readonly platform: string;
  readonly installation_id: string;
  readonly account_name: string;
  readonly last_synced_at: string | null;
  readonly status: string | null;
}

/** The figures of a summary: what a snapshot keeps (summary-snapshot.ts). */
export interface SummaryFigures {
  readonly timeline: ActivityRow[];
  readonly counts: Record<string, number> | null;
  readonly last_contact: string | null;
  readonly last_activity: string | null;
  readonly frequency: number;
  readonly money: { currency: string; lifetime: string; in_period: string }[];
  readonly drivers: DriverRow[];
  readonly alerts: ActivityRow[];
  readonly tickets_opened: number;
  readonly cancellations: number;
  readonly refunds: number;
  /** Whether the person's own record was found (person summaries only). */
  readonly found: boolean;
  /** The person's own canonical record (person summaries only). */
  readonly canonical: SubjectRow['canonical'];
}

/** The parts of a summary read fresh every time, also when the figures come from a snapshot. */
export interface SummaryLive {
  readonly sources: SourceRow[];
  readonly notifications: { message: string; status: string; due_at: string | null; created_at: string }[];
}

/** Everything the summary shows, read by one statement over one snapshot. */
export interface SummaryRow extends SummaryFigures, SummaryLive {
  /** The live subject keys of the activities shown (timeline and alerts). */
  readonly keys: WrappedSubjectKey[];
  /** The first moment time alone changes a figure (null: none does). */
  readonly valid_until: string | null;
  /** The statement's MVCC snapshot (`pg_snapshot`): which transactions it saw. */
  readonly snapshot: string;
  /** The records and profile the figures were read from (`summary_change` tokens). */
  readonly tokens: string[];
  readonly member_arrays: { installations: string[]; types: string[]; ids: string[] };
}

/** Members as three parallel arrays, for `unnest` (one index probe per member). */
function memberArrays(members: readonly Member[]): [string[], string[], string[]] {
  return [members.map((m) => m.installation_id), members.map((m) => m.object_type), members.map((m) => m.external_id)];
}

/** The columns of an activity the summary shows, money and ids as text so nothing loses precision. */
const shownColumns = `id::text as id, installation_id, kind, category, occurred_at, summary, actor, personal, attributes, discriminator, amount::text as amount, currency,
  source_object_type, source_external_id, driver_type, driver_object_type, driver_external_id, subject_object_type, subject_external_id`;

/** Per kind, the activities in the period. */
const countsByKindJson = `json_build_object(${activityKinds.map((k) => `'${k}', count(*) filter (where kind = '${k}' and occurred_at >= $7 and occurred_at <= $8)`).join(', ')})`;

/**
 * The members of a person: their record, the records the platform merged into it, and every record
 * of their resolved profile (none before resolution). `own` is empty when the record was never
 * synced from the installation.
 */
const personMembers = `
with own as (
  select r.canonical from source_record r where r.tenant_id = $1 and r.installation_id = $2 and r.object_type = $3 and r.external_id = $4
),
members as (
  select $2::uuid as installation_id, $3::text as object_type, $4::text as external_id from own
  union
  select $2::uuid, $3::text, alias from own,
         jsonb_array_elements_text(case when jsonb_typeof(own.canonical -> 'persons' -> 0 -> 'mergedFrom') = 'array' then own.canonical -> 'persons' -> 0 -> 'mergedFrom' else '[]' end) as alias
  union
  (select m.installation_id, m.object_type, m.external_id from identity_member me
     join identity_member m on m.tenant_id = me.tenant_id and m.profile_id = me.profile_id
    where me.tenant_id = $1 and me.installation_id = $2 and me.object_type = $3 and me.external_id = $4 and exists (select 1 from own)
    limit 5000)
),`;

/**
 * Members the caller found (accounts, drivers), as three parallel arrays ($12–$14). `own` is
 * always empty; it names $3 and $4 only so that every parameter has a type.
 */
const givenMembers = `
with own as (select null::jsonb as canonical where false and $3::text = $4::text),
members as (select distinct * from unnest($12::uuid[], $13::text[], $14::text[]) as m(installation_id, object_type, external_id)),`;

/**
 * The summary statement, after one of the members CTEs above. `scoped` (the members' activities;
 * for a driver also every activity under it, each row once) is read once, by index, and every
 * figure is computed from it in the same snapshot. Parameters: $1 tenant; $2–$4 the subject's
 * installation, object type and external id; $5, $6 the driver (or nulls); $7, $8 the period;
 * $9 timeline rows wanted; $10 thirty days ago; $11 ninety days ago.
 */
const summaryBody = `
scoped as materialized (
  select a.* from members m
    join activity a on a.tenant_id = $1 and a.subject_object_type = m.object_type and a.subject_external_id = m.external_id and a.installation_id = m.installation_id
   where not coalesce(a.installation_id = $2 and a.driver_object_type = $5 and a.driver_external_id = $6, false)
  union all
  select a.* from activity a where a.tenant_id = $1 and $5::text is not null and a.installation_id = $2 and a.driver_object_type = $5 and a.driver_external_id = $6
),
timeline as (
  select ${shownColumns} from scoped where occurred_at >= $7 and occurred_at <= $8 order by occurred_at desc, id desc limit $9
),
alerts as (
  select ${shownColumns} from scoped where kind = 'security_alert' and occurred_at >= $10 order by occurred_at desc, id desc limit 5
),
figures as (
  -- The scalar figures, in one pass.
  select ${countsByKindJson} as counts,
         max(occurred_at) filter (where kind = 'interaction') as last_contact,
         max(occurred_at) filter (where occurred_at <= $8) as last_activity,
         count(*) filter (where kind in ('interaction', 'transaction') and occurred_at >= $7 and occurred_at <= $8)::int as frequency,
         count(*) filter (where category = 'cancellation' and occurred_at >= $11)::int as cancellations,
         count(*) filter (where category = 'refund' and occurred_at >= $11)::int as refunds,
         -- When the figures above next change with time alone (see valid_until below).
         min(occurred_at) filter (where occurred_at >= $7 and occurred_at <= $8) as oldest_in_period,
         min(occurred_at) filter (where occurred_at > $8) as next_in_future,
         min(occurred_at) filter (where kind = 'security_alert' and occurred_at >= $10) as oldest_alert,
         min(occurred_at) filter (where category in ('cancellation', 'refund') and occurred_at >= $11) as oldest_churn_event
    from scoped
),
drivers as (
  select installation_id, driver_object_type, driver_external_id,
         min(occurred_at) as opened_at, max(amount) as amount, max(currency) as currency,
         min(occurred_at) filter (where driver_type = 'ticket') as ticket_opened_at
    from scoped where driver_external_id is not null
   group by installation_id, driver_object_type, driver_external_id
),
latest as (
  select distinct on (installation_id, driver_object_type, driver_external_id)
         installation_id, driver_type, driver_object_type, driver_external_id, attributes -> 'driverState' as state, attributes ->> 'priority' as priority
    from scoped
   where driver_external_id is not null and attributes ? 'driverState'
   order by installation_id, driver_object_type, driver_external_id, occurred_at desc, id desc
),
open_drivers as (
  select l.*, d.opened_at, d.amount, d.currency from latest l
    join drivers d on d.installation_id = l.installation_id and d.driver_object_type = l.driver_object_type and d.driver_external_id = l.driver_external_id
   where (l.state ->> 'open')::boolean
     and not exists (select 1 from source_record r where r.tenant_id = $1 and r.installation_id = l.installation_id and r.object_type = l.driver_object_type
                        and r.external_id = l.driver_external_id and r.deleted_at is not null)
   order by d.opened_at desc nulls last
   limit 100
),
money as (
  -- Money in: won purchases, payments and renewals; money out: refunds.
  select currency,
         sum(case when category = 'refund' then -amount else amount end) as lifetime,
         coalesce(sum(case when occurred_at >= $7 and occurred_at <= $8 then (case when category = 'refund' then -amount else amount end) end), 0) as in_period
    from scoped
   where amount is not null and currency is not null
     and ((kind = 'transaction' and category in ('purchase', 'payment', 'refund')) or (kind = 'subscription' and category = 'renewal'))
   group by currency
),
shown as (select installation_id, subject_object_type, subject_external_id from timeline union select installation_id, subject_object_type, subject_external_id from alerts)
select
  (select coalesce(json_agg(t order by t.occurred_at desc, t.id desc), '[]') from timeline t) as timeline,
  f.counts, f.last_contact, f.last_activity, f.frequency, f.cancellations, f.refunds,
  (select coalesce(json_agg(json_build_object('currency', currency, 'lifetime', lifetime::text, 'in_period', in_period::text) order by lifetime desc), '[]') from money) as money,
  (select coalesce(json_agg(json_build_object('installation_id', o.installation_id, 'driver_type', o.driver_type, 'driver_object_type', o.driver_object_type,
            'driver_external_id', o.driver_external_id, 'state', o.state, 'priority', o.priority, 'opened_at', o.opened_at, 'amount', o.amount::text, 'currency', o.currency)
          order by o.opened_at desc nulls last), '[]')
     from open_drivers o) as drivers,
  (select coalesce(json_agg(a order by a.occurred_at desc, a.id desc), '[]') from alerts a) as alerts,
  (select count(*) from drivers where ticket_opened_at >= $10)::int as tickets_opened,
  ${sourcesJson()} as sources,
  ${notificationsJson('$10')} as notifications,
  (select coalesce(json_agg(json_build_object('id', k.id::text, 'wrapped_key', k.wrapped_key)), '[]')
     from shown s join subject_key k on k.tenant_id = $1 and k.installation_id = s.installation_id and k.object_type = s.subject_object_type and k.external_id = s.subject_external_id
    where k.wrapped_key is not null) as keys,
  exists (select 1 from own) as found,
  (select canonical from own) as canonical,
  -- What a snapshot of this summary needs (summary-snapshot.ts): the first moment time alone
  -- changes a figure (an activity leaves the period or a 30/90-day window, or a future-dated one
  -- enters), which transactions this statement saw, and the tokens of everything it read.
  least(f.oldest_in_period + ($8::timestamptz - $7::timestamptz), f.next_in_future, f.oldest_alert + interval '30 days', f.oldest_churn_event + interval '90 days',
        (select min(ticket_opened_at) from drivers where ticket_opened_at >= $10) + interval '30 days') as valid_until,
  pg_current_snapshot()::text as snapshot,
  (select array_agg(distinct t order by t) from (
     select installation_id || '/' || object_type || '/' || external_id as t from members
     union all select $2::text || '/' || $3::text || '/' || $4::text
     union all select 'profile/' || me.profile_id from identity_member me where me.tenant_id = $1 and me.installation_id = $2 and me.object_type = $3 and me.external_id = $4
     union all select installation_id || '/' || driver_object_type || '/' || driver_external_id from latest where (state ->> 'open')::boolean) x) as tokens,
  (select json_build_object('installations', coalesce(json_agg(installation_id), '[]'), 'types', coalesce(json_agg(object_type), '[]'), 'ids', coalesce(json_agg(external_id), '[]')) from members) as member_arrays
from figures f`;

const personSummaryStatement = `${personMembers}${summaryBody}`;
const givenSummaryStatement = `${givenMembers}${summaryBody}`;

/** A request's moment, period and timeline length, defaults applied (and the 30-day boundary notifications and alerts use). */
export function summaryWindow(request: SummaryRequest): { now: Date; period: { from: Date; to: Date }; limit: number; thirtyDaysAgo: string } {
  const now = request.now ?? new Date();
  return {
    now,
    period: request.period ?? { from: new Date(now.getTime() - 365 * dayMs), to: now },
    limit: Math.min(Math.max(request.limit ?? defaultTimelineLimit, 1), 500),
    thirtyDaysAgo: notificationsSince(now),
  };
}

/** The summary for one subject and period: what panels, the console preview and reports share. */
export async function buildSummary(sql: SqlSession, keyring: SubjectKeyring, request: SummaryRequest): Promise<AccountSummary> {
  const { now, period, limit, thirtyDaysAgo } = summaryWindow(request);
  const { subject } = request;
  const driverFilter = subject.kind === 'driver' ? [subject.objectType, subject.externalId] : [null, null];
  const params = [
    request.tenantId,
    request.installationId,
    subject.objectType,
    subject.externalId,
    ...driverFilter,
    period.from.toISOString(),
    period.to.toISOString(),
    limit + 1,
    thirtyDaysAgo,
    new Date(now.getTime() - 90 * dayMs).toISOString(),
  ];
  const cacheable = subject.kind === 'person' && request.period === undefined && request.snapshots !== false;
  const key = { tenantId: request.tenantId, installationId: request.installationId, objectType: subject.objectType, externalId: subject.externalId, limit };
  const hit = cacheable && request.snapshots !== 'missed' ? await readSnapshot(sql, keyring, key, now) : null;
  if (hit) return summaryFromSnapshot(request, hit);

  // A person's members are found by the statement itself (the hot path of every contact and user
  // panel); an account's and a driver's are looked up first.
  const found = subject.kind === 'person' ? null : await membersOf(sql, request);
  const [row] = found
    ? await sql.query<SummaryRow>(givenSummaryStatement, [...params, ...memberArrays(found.members)], { prepared: true })
    : await sql.query<SummaryRow>(personSummaryStatement, params, { prepared: true });
  if (!row) throw new LedgerlineError('LL_INTERNAL', 'the summary statement returned no row');
  // A record the installation never synced has no history yet: say so instead of an empty summary.
  if (!found && !row.found) throw notSynced(subject);
  const truncated = row.timeline.length > limit;
  const shown = row.timeline.slice(0, limit);
  const exec = (text: string, values?: readonly unknown[]) => sql.query(text, values);
  const personal = await openActivityFields(exec, keyring, request.tenantId, [...shown, ...row.alerts].map(storedActivityFields), row.keys);
  const parts: SummaryParts = {
    figures: { ...row, timeline: shown },
    truncated,
    live: { sources: row.sources, notifications: row.notifications },
    texts: personal.map((p): [string, string | null] => [p.summary, p.actor]),
    names: found ? { displayName: found.displayName, email: found.email } : null,
  };
  const summary = assembleSummary(request, { now, period, limit }, parts);
  if (cacheable) await storeSnapshot(sql, keyring, key, now, row, { ...parts, timelineJson: JSON.stringify(summary.timeline) });
  return summary;
}

/**
 * Everything a summary is assembled from: the figures (from the summary statement or a snapshot),
 * the live parts, and the opened personal texts (summary, actor) of the timeline rows and then of
 * the alerts, in that order.
 */
export interface SummaryParts {
  readonly figures: SummaryFigures;
  readonly truncated: boolean;
  readonly live: SummaryLive;
  readonly texts: readonly (readonly [string, string | null])[];
  /** An account's or a driver's name (a person's comes from their canonical record). */
  readonly names: { readonly displayName: string; readonly email: string | null } | null;
  /**
   * A snapshot's timeline, assembled when it was kept, as the JSON text of the items (nothing in
   * them depends on the moment or the live parts); `figures.timeline` is then empty.
   */
  readonly timelineJson?: string;
}

/** The timeline items of the rows shown, with their opened texts (`texts[i]` is row i's) and each source's platform. */
function timelineItems(shown: readonly ActivityRow[], texts: SummaryParts['texts'], platformOf: ReadonlyMap<string, string>): SummaryTimelineItem[] {
  return shown.map((row, i) => ({
    id: row.id,
    kind: row.kind,
    category: row.category,
    occurredAt: iso(row.occurred_at),
    summary: texts[i]![0],
    actor: texts[i]![1],
    amount: row.amount !== null && row.currency !== null ? { value: trimDecimal(row.amount), currency: row.currency.trim() } : null,
    source: { platform: platformOf.get(row.installation_id) ?? 'unknown', installationId: row.installation_id, objectType: row.source_object_type, externalId: row.source_external_id },
    driver: row.driver_type !== null && row.driver_object_type !== null && row.driver_external_id !== null ? { type: row.driver_type, objectType: row.driver_object_type, externalId: row.driver_external_id } : null,
  }));
}

/** The summary from a current snapshot's parts (a panel's one-statement read, or `buildSummary`'s hit). */
function summaryFromSnapshot(request: SummaryRequest, parts: SummaryParts): AccountSummary {
  const summary = assembleSummary(request, summaryWindow(request), parts);
  return parts.timelineJson === undefined ? summary : { ...summary, timeline: JSON.parse(parts.timelineJson) as SummaryTimelineItem[] };
}

/**
 * The same as JSON text, as a panel is sent it: a snapshot's timeline (most of the text) goes in
 * as it was kept, without being parsed and serialised again on every view.
 */
export function summaryJsonFromSnapshot(request: SummaryRequest, parts: SummaryParts): string {
  const { timeline, ...rest } = assembleSummary(request, summaryWindow(request), parts);
  const head = JSON.stringify(rest);
  return `${head.slice(0, -1)},"timeline":${parts.timelineJson ?? JSON.stringify(timeline)}}`;
}

function assembleSummary(request: SummaryRequest, at: { now: Date; period: { from: Date; to: Date }; limit: number }, parts: SummaryParts): AccountSummary {
  const { now, period } = at;
  const { subject } = request;
  const row = parts.figures;
  const person = row.canonical?.persons?.[0];
  const { displayName, email } = parts.names ?? { displayName: person?.displayName ?? person?.email ?? `${subject.objectType} ${subject.externalId}`, email: person?.email ?? null };
  const { timeline: shown, drivers, alerts: alertsRows, money } = row;
  const { sources, notifications } = parts.live;
  const platformOf = new Map(sources.map((s) => [s.installation_id, s.platform]));
  const subjectPlatform = platformOf.get(request.installationId) ?? 'unknown';
  const truncated = parts.truncated;
  const alertTexts = parts.texts.slice(shown.length);
  const items = timelineItems(shown, parts.texts, platformOf);

  const countsByKind = Object.fromEntries(activityKinds.map((k) => [k, Number(row.counts?.[k] ?? 0)])) as Record<ActivityKind, number>;
  const lastActivity = row.last_activity ? new Date(row.last_activity) : null;
  const lastContact = row.last_contact ? new Date(row.last_contact) : null;
  const openItems = drivers.map((d) => ({
    type: d.driver_type,
    title: d.state.title ?? `${d.driver_object_type} ${d.driver_external_id}`,
    status: d.state.status ?? 'Open',
    openedAt: d.opened_at ? iso(d.opened_at) : null,
    amount: d.amount !== null && d.currency !== null ? { value: trimDecimal(d.amount), currency: d.currency.trim() } : null,
    source: { platform: platformOf.get(d.installation_id) ?? 'unknown', installationId: d.installation_id, objectType: d.driver_object_type, externalId: d.driver_external_id },
  }));
  const risk = churnRisk({
    now,
    lastContact,
    lastActivity,
    openTickets: row.tickets_opened,
    highPriorityOpen: drivers.filter((d) => d.driver_type === 'ticket' && ['HIGH', 'URGENT'].includes(d.priority?.toUpperCase() ?? '')).length,
    cancellations: row.cancellations,
    refunds: row.refunds,
    hasHistory: lastActivity !== null,
  });

  const alerts: AccountSummary['alerts'] = [
    ...alertsRows.map((a, i) => ({ severity: 'critical' as const, message: alertTexts[i]![0], occurredAt: iso(a.occurred_at) })),
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
        frequency: row.frequency,
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
