/**
 * Report data on a fixture computed by hand (see each expectation's comment): a HubSpot and a
 * Zendesk installation, a person whose two records are one profile, a person counted through their
 * company's country, a refund, logins with ip and device, a failed-login alert, a ticket, a
 * cancellation, an account activity, activity on both sides of the period's local bounds, spend,
 * sync gaps and a saved segment — in Europe/Berlin, so days and hours are local, not UTC.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { LedgerlineError } from '../errors/index.ts';
import type { ActivityRecord } from '../model/index.ts';
import { ingestBatch } from '../store/index.ts';
import { ReportParameters, reportMetrics, SegmentDefinition, TemplateDefinition, type ReportParametersInput, type ReportTemplate, type SectionData } from './report-model.ts';
import { collectReportData } from './report-data.ts';
import { importSpendCsv } from './spend.ts';

const now = new Date('2026-11-05T12:00:00Z');

type Subject = readonly ['person' | 'account', string, string];

function activity(key: string, subject: Subject, kind: ActivityRecord['kind'], category: string, at: string, more: Partial<ActivityRecord> = {}): ActivityRecord {
  return {
    kind,
    category,
    occurredAt: new Date(at),
    subject: { kind: subject[0], objectType: subject[1], externalId: subject[2] },
    driver: null,
    source: { objectType: 'event', externalId: key },
    discriminator: 'main',
    amount: null,
    summary: `${category} (${key})`,
    actor: null,
    attributes: {},
    ...more,
  };
}

const money = (value: string, currency: string) => ({ amount: { value, currency } });
const p1: Subject = ['person', 'contact', 'p1'];
const p2: Subject = ['person', 'contact', 'p2'];
const u1: Subject = ['person', 'user', 'u1'];
const u3: Subject = ['person', 'user', 'u3'];

const template: ReportTemplate = {
  slug: 'monthly-review',
  builtIn: false,
  updatedAt: null,
  definition: TemplateDefinition.parse({
    title: 'Monthly review',
    description: 'Everything in one run',
    defaultMetrics: [...reportMetrics],
    lost: { kind: 'cancellation' },
    masking: { default: 'none', roles: { customer: 'anonymized' } },
    sections: [
      { type: 'kpis' },
      { type: 'summary', summary: 'login_history', limit: 1 },
      { type: 'summary', summary: 'security_alerts' },
      { type: 'summary', summary: 'transaction_history', limit: 10, filters: { platforms: ['hubspot'] } },
      { type: 'chart', chart: 'activity_over_time' },
      { type: 'chart', chart: 'revenue_over_time' },
      { type: 'chart', chart: 'activity_by_kind' },
      { type: 'chart', chart: 'segment_share' },
      { type: 'chart', chart: 'activity_heat_map' },
      { type: 'customers', sort: 'monetary', limit: 2 },
      { type: 'drill_down', metric: 'customers_at_start' },
      { type: 'segment_comparison', segments: ['spain'], metrics: ['activities', 'active_customers', 'revenue'] },
      { type: 'text', text: 'Figures are in local time.' },
    ],
  }),
};

describeOnTestDatabases('report data', (db) => {
  async function fixture() {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const tenantId = hub.tenantId;
    const h = hub.installationId;
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', $2, 'Support desk', 'http://127.0.0.1:9') returning id`,
      [tenantId, `report-${randomUUID()}`],
    );
    const z = zen!.id;
    const record = (installationId: string, objectType: string, id: string, canonical: unknown) =>
      db().sql.query(`insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical) values ($1, $2, $3, $4, 'h', '{}', $5)`, [
        tenantId,
        installationId,
        objectType,
        id,
        JSON.stringify(canonical),
      ]);
    await record(h, 'contact', 'p1', { persons: [{ displayName: 'Ana Birch', email: 'ana@birch.example', country: 'ES' }] });
    await record(z, 'user', 'u1', { persons: [{ email: 'ana@birch.example' }] });
    await record(h, 'contact', 'p2', { persons: [{ displayName: 'Ben Ode', email: 'ben@ode.example', account: { objectType: 'company', externalId: 'c1' } }] });
    await record(h, 'company', 'c1', { accounts: [{ name: 'Ode GmbH', country: 'DE' }] });
    await record(z, 'user', 'u3', { persons: [{ displayName: 'Cleo Park', email: 'cleo@park.example', country: 'FR' }] });
    const ingest = (installationId: string, activities: ActivityRecord[]) =>
      db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId, installationId, sourceRecords: [], activities, keyring: testKeyring }));
    const ticket = { type: 'ticket', objectType: 'ticket', externalId: 't1' } as const;
    await ingest(h, [
      activity('a1', p1, 'transaction', 'purchase', '2026-08-10T10:00:00Z', money('100', 'EUR')),
      activity('a2', p1, 'transaction', 'purchase', '2026-10-03T08:00:00Z', money('200', 'EUR')),
      activity('a3', p1, 'transaction', 'refund', '2026-10-05T09:00:00Z', money('50', 'EUR')),
      // Tuesday 2026-10-06, 08:30–08:40 in Berlin (CEST, UTC+2).
      activity('a4', p1, 'login', 'login_succeeded', '2026-10-06T06:30:00Z', { attributes: { ip: '203.0.113.7', device: 'Firefox on Linux' } }),
      activity('a5', p1, 'login', 'login_failed', '2026-10-06T06:35:00Z', { attributes: { ip: '198.51.100.9', userAgent: 'curl/8.0', failureReason: 'wrong password' } }),
      activity('a6', p1, 'security_alert', 'failed_login', '2026-10-06T06:40:00Z', { actor: 'Risk engine', attributes: { ip: '198.51.100.9', city: 'Lyon', country: 'FR' } }),
      // 23:30 UTC on the 12th is 01:30 on the 13th in Berlin.
      activity('b1', p2, 'transaction', 'purchase', '2026-10-12T23:30:00Z', money('80', 'EUR')),
      // 02:30 CEST on Sunday 2026-10-25, half an hour before the clocks go back.
      activity('b2', p2, 'interaction', 'email', '2026-10-25T00:30:00Z'),
      activity('d1', ['account', 'company', 'c1'], 'interaction', 'meeting', '2026-10-21T09:00:00Z'),
      // The local bounds: 23:59 on Sep 30 is out, 00:00 on Oct 1 is in, Nov 1 is out.
      activity('e2', p2, 'login', 'login_succeeded', '2026-09-30T21:59:00Z'),
      activity('e3', p2, 'custom', 'quarterly_review', '2026-09-30T22:00:00Z'),
      activity('e1', p1, 'interaction', 'email', '2026-11-01T10:00:00Z'),
    ]);
    await ingest(z, [
      activity('a7', u1, 'interaction', 'ticket', '2026-10-07T12:00:00Z', { driver: ticket, attributes: { driverState: { title: 'Cannot log in', status: 'open', open: true }, priority: 'high' } }),
      activity('a8', u1, 'subscription', 'renewal', '2026-10-20T10:00:00Z', money('30', 'USD')),
      activity('c1', u3, 'transaction', 'purchase', '2026-07-01T10:00:00Z', money('40', 'EUR')),
      activity('c2', u3, 'subscription', 'cancellation', '2026-10-15T10:00:00Z'),
      activity('c3', u3, 'notification', 'notification_sent', '2026-10-16T10:00:00Z'),
    ]);
    const profile = randomUUID();
    await db().sql.query(
      `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor) values
         ($1, $2, 'contact', 'p1', 'person', $4, 'ana'), ($1, $3, 'user', 'u1', 'person', $4, 'ana')`,
      [tenantId, h, z, profile],
    );
    await importSpendCsv(db().sql, tenantId, 'date,channel,currency,amount\n2026-09-30,Search,EUR,1000\n2026-10-01,Search,EUR,300\n', 'ana');
    await db().sql.query(
      `insert into sync_state (installation_id, stream, tenant_id, status, last_success_at, last_error_message) values
         ($1, 'contacts', $3, 'idle', '2026-11-05T10:00:00Z', null), ($1, 'deals', $3, 'failed', '2026-11-01T10:00:00Z', 'HubSpot answered 500'),
         ($2, 'tickets', $3, 'running', null, null)`,
      [h, z, tenantId],
    );
    await db().sql.query(
      `insert into sync_run (tenant_id, installation_id, stream, mode, owner, started_at, finished_at, outcome) values
         ($1, $2, 'deals', 'incremental', 'w', '2026-10-31T10:00:00Z', '2026-10-31T10:01:00Z', 'failed'),
         ($1, $2, 'deals', 'incremental', 'w', '2026-11-02T10:00:00Z', '2026-11-02T10:01:00Z', 'failed'),
         ($1, $2, 'deals', 'incremental', 'w', '2026-11-03T10:00:00Z', '2026-11-03T10:01:00Z', 'failed')`,
      [tenantId, h],
    );
    // Another tenant's activity in the same period never counts.
    const other = await seedInstallation(db(), { platform: 'hubspot' });
    await db().sql.transaction((tx) =>
      ingestBatch((s, p) => tx.query(s, p), { tenantId: other.tenantId, installationId: other.installationId, sourceRecords: [], activities: [activity('x1', p1, 'transaction', 'purchase', '2026-10-10T10:00:00Z', money('999', 'EUR'))], keyring: testKeyring }),
    );
    const spain = SegmentDefinition.parse({ name: 'Spain', conditions: [{ type: 'country', countries: ['ES'] }] });
    const collect = (parameters: ReportParametersInput, onProgress?: (step: string) => void) =>
      collectReportData(db().sql, testKeyring, {
        tenantId,
        template,
        parameters: ReportParameters.parse({ timeZone: 'Europe/Berlin', ...parameters }),
        segments: (slug) => Promise.resolve(slug === 'spain' ? spain : null),
        now,
        ...(onProgress ? { onProgress } : {}),
      });
    return { tenantId, h, z, profile, u3Key: `${z}/user/u3`, collect };
  }

  let f: Awaited<ReturnType<typeof fixture>>;
  const section = <T extends SectionData['type']>(sections: readonly SectionData[], type: T, nth = 0) => sections.filter((s) => s.type === type)[nth] as Extract<SectionData, { type: T }>;

  it('computes every KPI of the tenant over the local month', async () => {
    f = await fixture();
    const data = await f.collect({ period: '2026-10' });
    expect(data.period).toEqual({ from: '2026-09-30T22:00:00.000Z', to: '2026-10-31T23:00:00.000Z', text: '2026-10' });
    expect(data.template).toEqual({ slug: 'monthly-review', title: 'Monthly review', description: 'Everything in one run' });
    expect(data.tenant.id).toBe(f.tenantId);
    expect([data.segment, data.subject, data.masking, data.generatedAt, data.freshnessHours]).toEqual([null, null, 'none', now.toISOString(), 26]);
    const kpis = Object.fromEntries(section(data.sections, 'kpis').metrics.map((m) => [m.metric, m.value]));
    expect(kpis).toEqual({
      // a2–a8, b1, b2, c2, c3, d1 and e3: 13 (e1, e2 and the earlier purchases lie outside the month).
      activities: 13,
      // Ana (one profile for p1 and u1), Ben and Cleo; d1 is the company's.
      active_customers: 3,
      // Ana (since August) and Cleo (since July) at start; Ben new; Cleo cancelled.
      customers_at_start: 2,
      new_customers: 1,
      lost_customers: 1,
      churn_rate: 0.5,
      // EUR 200 − 50 + 80; USD: Ana's renewal.
      revenue: [{ currency: 'EUR', value: '230' }, { currency: 'USD', value: '30' }],
      refunds: [{ currency: 'EUR', value: '50' }],
      // EUR: Ana 250 + Ben 80 + Cleo 40 over 3; USD 30 over 1.
      clv: [{ currency: 'EUR', value: '123.33' }, { currency: 'USD', value: '30' }],
      // October's spend (not September's) over one new customer.
      cac: [{ currency: 'EUR', value: '300' }],
      tickets_opened: 1,
      open_items: 1,
      // a5 (login_failed) and a6 (security alert failed_login).
      failed_logins: 2,
      security_alerts: 1,
      notifications_sent: 1,
    });
    expect(data.control).toEqual({
      activitiesByKind: { custom: 1, interaction: 3, login: 2, notification: 1, security_alert: 1, subscription: 2, transaction: 3 },
      revenue: [{ currency: 'EUR', value: '230' }, { currency: 'USD', value: '30' }],
      // The USD renewal is revenue, not a transaction.
      transactionAmounts: [{ currency: 'EUR', value: '230' }],
    });
  });

  it('lists summary rows with opened personal fields, customer names and login details', async () => {
    const data = await f.collect({ period: '2026-10' });
    const logins = section(data.sections, 'summary', 0);
    expect(logins).toMatchObject({ summary: 'login_history', total: 2, byCategory: [{ category: 'login_failed', count: 1 }, { category: 'login_succeeded', count: 1 }], amounts: [], truncated: true });
    expect(logins.rows).toEqual([
      {
        occurredAt: '2026-10-06T06:35:00.000Z',
        platform: 'hubspot',
        kind: 'login',
        category: 'login_failed',
        summary: 'login_failed (a5)',
        actor: null,
        customer: { name: 'Ana Birch', email: 'ana@birch.example' },
        amount: null,
        details: { ip: '198.51.100.9', device: 'curl/8.0', failureReason: 'wrong password' },
      },
    ]);
    const alerts = section(data.sections, 'summary', 1);
    expect(alerts.rows.map((r) => [r.summary, r.actor, r.details])).toEqual([['failed_login (a6)', 'Risk engine', { ip: '198.51.100.9', location: 'Lyon, FR' }]]);
    expect(alerts.truncated).toBe(false);
    // HubSpot only: a2, a3 and b1 (newest first); money in 200 + 80, out 50.
    const transactions = section(data.sections, 'summary', 2);
    expect(transactions).toMatchObject({ total: 3, byCategory: [{ category: 'purchase', count: 2 }, { category: 'refund', count: 1 }], amounts: [{ currency: 'EUR', value: '230' }], truncated: false });
    expect(transactions.rows.map((r) => [r.occurredAt, r.category, r.customer.name, r.amount])).toEqual([
      ['2026-10-12T23:30:00.000Z', 'purchase', 'Ben Ode', { currency: 'EUR', value: '80' }],
      ['2026-10-05T09:00:00.000Z', 'refund', 'Ana Birch', { currency: 'EUR', value: '50' }],
      ['2026-10-03T08:00:00.000Z', 'purchase', 'Ana Birch', { currency: 'EUR', value: '200' }],
    ]);
  });

  it('plots local days, revenue per currency, kinds, countries and the weekday × hour heat map', async () => {
    const data = await f.collect({ period: '2026-10' });
    const overTime = section(data.sections, 'chart', 0);
    expect(overTime.series.map((s) => s.label)).toEqual(['login', 'transaction', 'interaction', 'subscription', 'notification', 'security_alert', 'custom']);
    const points = (label: string) => Object.fromEntries(overTime.series.find((s) => s.label === label)!.points.filter((p) => p.y > 0).map((p) => [p.x, p.y]));
    expect(overTime.series[0]!.points).toHaveLength(31);
    // b1 lands on the 13th (local), e3 on the 1st (local midnight).
    expect(points('transaction')).toEqual({ '2026-10-03': 1, '2026-10-05': 1, '2026-10-13': 1 });
    expect(points('custom')).toEqual({ '2026-10-01': 1 });
    expect(points('login')).toEqual({ '2026-10-06': 2 });
    const revenue = section(data.sections, 'chart', 1);
    expect(revenue.series.map((s) => [s.label, Object.fromEntries(s.points.filter((p) => p.y !== 0).map((p) => [p.x, p.y]))])).toEqual([
      ['EUR', { '2026-10-03': 200, '2026-10-05': -50, '2026-10-13': 80 }],
      ['USD', { '2026-10-20': 30 }],
    ]);
    expect(section(data.sections, 'chart', 2).series).toEqual([
      { label: 'activities', points: [{ x: 'login', y: 2 }, { x: 'transaction', y: 3 }, { x: 'interaction', y: 3 }, { x: 'subscription', y: 2 }, { x: 'notification', y: 1 }, { x: 'security_alert', y: 1 }, { x: 'custom', y: 1 }] },
    ]);
    // Ana is Spanish, Ben German through his company, Cleo French.
    expect(section(data.sections, 'chart', 3).series).toEqual([{ label: 'customers', points: [{ x: 'DE', y: 1 }, { x: 'ES', y: 1 }, { x: 'FR', y: 1 }] }]);
    const heat = section(data.sections, 'chart', 4).heat!;
    expect(heat).toHaveLength(7);
    // Tuesday 08:00–09:00 in Berlin: a4, a5, a6. Sunday 02:00 (CEST, before the clocks go back): b2.
    expect([heat[1]![8], heat[6]![2], heat[1]![6], heat.flat().reduce((a, b) => a + b, 0)]).toEqual([3, 1, 0, 13]);
  });

  it('ranks customers with RFM and churn risk, names the drill-down, and compares segments', async () => {
    const data = await f.collect({ period: '2026-10' });
    // As of Oct 31 23:00Z. Recency: Cleo (Oct 16) 1, Ana (Oct 20) 3, Ben (Oct 25) 5. Frequency: Cleo 1, Ben 2,
    // Ana 4 (three transactions and the ticket). Monetary (currencies added): Cleo 40, Ben 80, Ana 250 + 30.
    expect(section(data.sections, 'customers').rows).toEqual([
      {
        customer: f.profile,
        name: 'Ana Birch',
        email: 'ana@birch.example',
        country: 'ES',
        recencyDays: 11,
        frequency: 4,
        monetary: [{ currency: 'EUR', value: '250' }, { currency: 'USD', value: '30' }],
        rfm: { r: 3, f: 5, m: 5 },
        // Open high-priority ticket 20 + a refund in 90 days 15.
        churnRisk: { level: 'medium', score: 35, reasons: ['1 open high-priority ticket', '1 refund in 90 days'] },
      },
      {
        customer: `${f.h}/contact/p2`,
        name: 'Ben Ode',
        email: 'ben@ode.example',
        country: 'DE',
        recencyDays: 6,
        frequency: 2,
        monetary: [{ currency: 'EUR', value: '80' }],
        rfm: { r: 5, f: 3, m: 3 },
        churnRisk: { level: 'low', score: 0, reasons: [] },
      },
    ]);
    expect(section(data.sections, 'drill_down')).toEqual({
      type: 'drill_down',
      title: null,
      metric: 'customers_at_start',
      customers: [
        { customer: f.profile, name: 'Ana Birch', email: 'ana@birch.example' },
        { customer: f.u3Key, name: 'Cleo Park', email: 'cleo@park.example' },
      ].sort((a, b) => (a.customer < b.customer ? -1 : 1)),
      truncated: false,
    });
    // Spain is Ana: a2–a8.
    expect(section(data.sections, 'segment_comparison').columns).toEqual([
      { segment: 'spain', name: 'Spain', customers: 1, metrics: [
        { metric: 'activities', kind: 'count', value: 7 },
        { metric: 'active_customers', kind: 'count', value: 1 },
        { metric: 'revenue', kind: 'money', value: [{ currency: 'EUR', value: '150' }, { currency: 'USD', value: '30' }] },
      ] },
    ]);
    expect(section(data.sections, 'text')).toEqual({ type: 'text', title: null, text: 'Figures are in local time.' });
  });

  it("reports each installation's freshness and its streams' gaps", async () => {
    const data = await f.collect({ period: '2026-10' });
    expect(data.sources).toEqual([
      {
        installationId: f.h,
        platform: 'hubspot',
        accountName: 'Test installation',
        lastSyncedAt: '2026-11-01T10:00:00.000Z',
        // Failing since the first failed run after the last success (Oct 31 came before it).
        gaps: [{ stream: 'deals', status: 'failed', since: '2026-11-02T10:00:00.000Z', reason: 'HubSpot answered 500' }],
      },
      { installationId: f.z, platform: 'zendesk', accountName: 'Support desk', lastSyncedAt: null, gaps: [{ stream: 'tickets', status: 'running', since: null, reason: null }] },
    ]);
  });

  it("restricts a run to a segment's customers, with the masking of the reader's role", async () => {
    const data = await f.collect({ period: '2026-10', segment: 'spain', role: 'customer', metrics: ['activities', 'customers_at_start', 'new_customers', 'revenue', 'cac'] });
    expect([data.segment, data.masking]).toEqual([{ slug: 'spain', name: 'Spain', customers: 1 }, 'anonymized']);
    expect(section(data.sections, 'kpis').metrics.map((m) => m.value)).toEqual([7, 1, 0, [{ currency: 'EUR', value: '150' }, { currency: 'USD', value: '30' }], []]);
    expect(data.control.activitiesByKind).toEqual({ interaction: 1, login: 2, security_alert: 1, subscription: 1, transaction: 2 });
    expect(section(data.sections, 'summary', 2).rows.map((r) => r.customer.name)).toEqual(['Ana Birch', 'Ana Birch']);
    expect(section(data.sections, 'customers').rows.map((r) => r.customer)).toEqual([f.profile]);
  });

  it('restricts a run to one subject: a person with their profile, or an account with its people', async () => {
    const person = await f.collect({ period: '2026-10', subject: { installationId: f.h, kind: 'person', objectType: 'contact', externalId: 'p1' }, metrics: ['activities', 'open_items'] });
    expect(person.subject).toEqual({ name: 'Ana Birch', email: 'ana@birch.example' });
    // p1's and u1's activities, the open ticket included.
    expect(section(person.sections, 'kpis').metrics.map((m) => m.value)).toEqual([7, 1]);
    const account = await f.collect({ period: '2026-10', subject: { installationId: f.h, kind: 'account', objectType: 'company', externalId: 'c1' }, metrics: ['activities'] });
    expect(account.subject).toEqual({ name: 'Ode GmbH', email: null });
    // d1 (the company's) and Ben's b1, b2 and e3.
    expect(account.control.activitiesByKind).toEqual({ custom: 1, interaction: 2, transaction: 1 });
  });

  it('plots weekly points for periods longer than 62 days and reports its progress', async () => {
    const steps: string[] = [];
    const data = await f.collect({ period: '2026-08-01..2026-10-31', metrics: ['activities'] }, (step) => steps.push(step));
    const overTime = section(data.sections, 'chart', 0);
    // Aug 1 is a Saturday: the first week starts Monday Jul 27; Oct 31 (Saturday) ends the week of Oct 26.
    expect([overTime.series[0]!.points[0]!.x, overTime.series[0]!.points.at(-1)!.x, overTime.series[0]!.points.length]).toEqual(['2026-07-27', '2026-10-26', 14]);
    expect(Object.fromEntries(overTime.series.find((s) => s.label === 'transaction')!.points.filter((p) => p.y > 0).map((p) => [p.x, p.y]))).toEqual({
      '2026-08-10': 1,
      '2026-09-28': 1,
      '2026-10-05': 1,
      '2026-10-12': 1,
    });
    expect(steps).toEqual(['scope', 'metrics', ...template.definition.sections.map((_, i) => `sections ${i + 1}/13`), 'sources', 'control']);
  });

  it('refuses an unknown segment, an unknown subject, and a segment together with a subject', async () => {
    const refusal = async (work: Promise<unknown>) => {
      try {
        await work;
      } catch (error) {
        if (error instanceof LedgerlineError) return [error.code, error.details.field];
        throw error;
      }
      return null;
    };
    expect(await refusal(f.collect({ period: '2026-10', segment: 'nowhere' }))).toEqual(['LL_NOT_FOUND', 'segment']);
    expect(await refusal(f.collect({ period: '2026-10', subject: { installationId: f.h, kind: 'person', objectType: 'contact', externalId: 'nobody' } }))).toEqual(['LL_NOT_FOUND', 'subject']);
    expect(await refusal(f.collect({ period: '2026-10', segment: 'spain', subject: { installationId: f.h, kind: 'person', objectType: 'contact', externalId: 'p1' } }))).toEqual(['LL_INVALID_INPUT', 'subject']);
    expect(await refusal(f.collect({ period: '2026-10', timeZone: 'Mars/Olympus' }))).toEqual(['LL_INVALID_INPUT', 'timeZone']);
  });
});
