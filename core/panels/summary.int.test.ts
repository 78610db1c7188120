/**
 * The summary's figures on a history small enough to compute by hand (see each expectation's
 * comment): members through a merge alias and an account, money in and out in two currencies,
 * period bounds, open items from the newest driver state, churn risk, tenant scoping.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import type { Database } from '../store/index.ts';
import { resolveTenant } from '../identity/identity-store.ts';
import { buildSummary, churnRisk } from './summary.ts';

const now = new Date('2026-06-30T12:00:00Z');
const reportUrl = 'https://ledgerline.test/report';

interface Row {
  kind: string;
  category: string;
  at: string;
  subject?: string;
  driver?: { type: string; objectType: string; id: string; state?: { title: string; status: string; open: boolean } };
  amount?: [string, string];
  priority?: string;
  key: string;
}

async function seed(db: Database, tenantId: string, installationId: string, rows: Row[]): Promise<void> {
  for (const r of rows) {
    await db.sql.query(
      `insert into activity (tenant_id, installation_id, kind, category, occurred_at, subject_kind, subject_object_type, subject_external_id,
                             driver_type, driver_object_type, driver_external_id, source_object_type, source_external_id, discriminator,
                             amount, currency, summary, attributes)
       values ($1, $2, $3, $4, $5, 'person', 'contact', $6, $7, $8, $9, 'activity', $10, 'x', $11, $12, $13, $14)`,
      [
        tenantId,
        installationId,
        r.kind,
        r.category,
        r.at,
        r.subject ?? 'p1',
        r.driver?.type ?? null,
        r.driver?.objectType ?? null,
        r.driver?.id ?? null,
        r.key,
        r.amount?.[0] ?? null,
        r.amount?.[1] ?? null,
        `${r.category} ${r.key}`,
        JSON.stringify({ ...(r.driver?.state ? { driverState: r.driver.state } : {}), ...(r.priority ? { priority: r.priority } : {}) }),
      ],
    );
  }
}

async function record(db: Database, tenantId: string, installationId: string, objectType: string, id: string, canonical: unknown, deleted = false): Promise<void> {
  await db.sql.query(
    `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical, deleted_at)
     values ($1, $2, $3, $4, 'h', '{}', $5, $6)`,
    [tenantId, installationId, objectType, id, JSON.stringify(canonical), deleted ? now.toISOString() : null],
  );
}

const deal = (id: string, open: boolean) => ({ type: 'deal', objectType: 'deal', id, state: { title: `Deal ${id}`, status: open ? 'open' : 'closedwon', open } });
const ticket = (id: string, open: boolean) => ({ type: 'ticket', objectType: 'ticket', id, state: { title: `Ticket ${id}`, status: open ? 'Waiting on us' : 'Closed', open } });

describeOnTestDatabases('account activity summary figures', (db) => {
  let tenantId: string;
  let installationId: string;

  it('computes every figure of a person with a merged alias, from their history alone', async () => {
    ({ tenantId, installationId } = await seedInstallation(db(), { platform: 'hubspot' }));
    await record(db(), tenantId, installationId, 'contact', 'p1', { persons: [{ displayName: 'Maya Ortiz', email: 'maya@birch.example', mergedFrom: ['p0'], account: { objectType: 'company', externalId: 'c1' } }] });
    await record(db(), tenantId, installationId, 'contact', 'p0', { persons: [{ displayName: 'M. Ortiz' }] });
    await record(db(), tenantId, installationId, 'company', 'c1', { accounts: [{ name: 'Birch Logistics' }] });
    await record(db(), tenantId, installationId, 'contact', 'p9', { persons: [{ displayName: 'Someone else' }] });
    await record(db(), tenantId, installationId, 'deal', 'd2', {}, true);
    await seed(db(), tenantId, installationId, [
      { key: 'a1', kind: 'transaction', category: 'deal_opened', at: '2025-12-01T09:00:00Z', driver: deal('d1', true), amount: ['1000', 'EUR'] },
      { key: 'a2', kind: 'transaction', category: 'purchase', at: '2026-01-10T09:00:00Z', driver: deal('d1', false), amount: ['1000', 'EUR'] },
      { key: 'a3', kind: 'subscription', category: 'renewal', at: '2026-02-01T09:00:00Z', amount: ['300', 'EUR'] },
      { key: 'a4', kind: 'interaction', category: 'email', at: '2026-03-15T09:00:00Z', subject: 'p0' },
      { key: 'a5', kind: 'transaction', category: 'deal_opened', at: '2026-04-01T09:00:00Z', driver: deal('d2', true), amount: ['50', 'EUR'] },
      { key: 'a6', kind: 'transaction', category: 'refund', at: '2026-05-01T09:00:00Z', amount: ['200', 'EUR'] },
      { key: 'a7', kind: 'subscription', category: 'cancellation', at: '2026-06-01T09:00:00Z' },
      { key: 'a8', kind: 'interaction', category: 'ticket', at: '2026-06-20T09:00:00Z', driver: ticket('t1', true), priority: 'urgent' },
      { key: 'a9', kind: 'interaction', category: 'ticket', at: '2026-06-25T09:00:00Z', driver: ticket('t2', true) },
      { key: 'a10', kind: 'interaction', category: 'ticket_closed', at: '2026-06-26T09:00:00Z', driver: ticket('t2', false) },
      { key: 'a11', kind: 'interaction', category: 'ticket', at: '2026-06-28T09:00:00Z', driver: ticket('t3', true) },
      { key: 'a12', kind: 'security_alert', category: 'new_country_login', at: '2026-06-29T10:00:00Z' },
      // Before the period (lifetime value only) and someone else's activity.
      { key: 'a13', kind: 'transaction', category: 'purchase', at: '2024-03-01T09:00:00Z', amount: ['500', 'USD'] },
      { key: 'a14', kind: 'transaction', category: 'purchase', at: '2026-06-10T09:00:00Z', amount: ['9999', 'EUR'], subject: 'p9' },
    ]);
    // The same contact id in another tenant is another customer.
    const other = await seedInstallation(db(), { platform: 'hubspot' });
    await record(db(), other.tenantId, other.installationId, 'contact', 'p1', { persons: [{ displayName: 'Other tenant' }] });
    await seed(db(), other.tenantId, other.installationId, [{ key: 'b1', kind: 'transaction', category: 'purchase', at: '2026-06-10T09:00:00Z', amount: ['7777', 'EUR'] }]);

    const summary = await buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'person', objectType: 'contact', externalId: 'p1' }, now, reportUrl });
    expect(summary.subject).toEqual({ kind: 'person', displayName: 'Maya Ortiz', email: 'maya@birch.example', source: { platform: 'hubspot', installationId, objectType: 'contact', externalId: 'p1' } });
    expect(summary.period).toEqual({ from: '2025-06-30T12:00:00.000Z', to: '2026-06-30T12:00:00.000Z' });
    // EUR: purchase 1000 + renewal 300 − refund 200 = 1100 (deal_opened is not money in); USD 500 from 2024.
    expect(summary.kpis.lifetimeValue).toEqual([
      { value: '1100', currency: 'EUR' },
      { value: '500', currency: 'USD' },
    ]);
    // a1–a12 fall in the period (a4 through the merged alias p0); a13 is older, a14 is p9's.
    expect(summary.countsByKind).toEqual({ login: 0, transaction: 4, interaction: 5, subscription: 2, profile_change: 0, notification: 0, security_alert: 1, custom: 0 });
    expect(summary.kpis.activityCount).toBe(12);
    expect(summary.kpis.lastContactAt).toBe('2026-06-28T09:00:00.000Z');
    // Newest activity a12, 26 hours before now: 1 whole day. Frequency: 4 transactions + 5 interactions.
    expect(summary.kpis.rfm).toEqual({ recencyDays: 1, frequency: 9, monetary: [{ value: '1100', currency: 'EUR' }] });
    // Open: t3 and t1 (newest first). d1 was won, t2 closed, d2's record is deleted.
    expect(summary.openItems.map((o) => [o.type, o.title, o.status, o.openedAt])).toEqual([
      ['ticket', 'Ticket t3', 'Waiting on us', '2026-06-28T09:00:00.000Z'],
      ['ticket', 'Ticket t1', 'Waiting on us', '2026-06-20T09:00:00.000Z'],
    ]);
    expect(summary.kpis.openItems).toBe(2);
    // Cancellation 40 + open high-priority ticket 20 + three tickets opened in 30 days 20 + refund 15.
    expect(summary.kpis.churnRisk).toEqual({
      level: 'high',
      score: 95,
      reasons: ['1 cancellation in 90 days', '1 open high-priority ticket', '3 tickets opened in 30 days', '1 refund in 90 days'],
    });
    expect(summary.alerts).toEqual([
      { severity: 'critical', message: 'new_country_login a12', occurredAt: '2026-06-29T10:00:00.000Z' },
      { severity: 'warning', message: 'High churn risk: 1 cancellation in 90 days; 1 open high-priority ticket; 3 tickets opened in 30 days; 1 refund in 90 days', occurredAt: null },
    ]);
    expect(summary.timeline.map((t) => t.summary.split(' ')[1])).toEqual(['a12', 'a11', 'a10', 'a9', 'a8', 'a7', 'a6', 'a5', 'a4', 'a3', 'a2', 'a1']);
    expect(summary.timelineTruncated).toBe(false);
    expect(summary.reportUrl).toBe(reportUrl);
  });

  it('limits the timeline and says it was truncated; a shorter period narrows counts but not lifetime value', async () => {
    const summary = await buildSummary(db().sql, testKeyring, {
      tenantId,
      installationId,
      subject: { kind: 'person', objectType: 'contact', externalId: 'p1' },
      period: { from: new Date('2026-06-01T00:00:00Z'), to: now },
      limit: 3,
      now,
      reportUrl,
    });
    // a7 (Jun 1) to a12.
    expect(summary.kpis.activityCount).toBe(6);
    expect(summary.timeline.map((t) => t.summary.split(' ')[1])).toEqual(['a12', 'a11', 'a10']);
    expect(summary.timelineTruncated).toBe(true);
    expect(summary.kpis.lifetimeValue).toEqual([
      { value: '1100', currency: 'EUR' },
      { value: '500', currency: 'USD' },
    ]);
    expect(summary.kpis.rfm.monetary).toEqual([]);
  });

  it("an account covers the people who belong to it; a deal covers the people it involves", async () => {
    const account = await buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'account', objectType: 'company', externalId: 'c1' }, now, reportUrl });
    expect(account.subject.displayName).toBe('Birch Logistics');
    // p1's activities (not the alias p0's: the alias is a member of the person, not of the account).
    expect(account.kpis.activityCount).toBe(11);
    const dealSummary = await buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'driver', type: 'deal', objectType: 'deal', externalId: 'd2' }, now, reportUrl });
    expect(dealSummary.subject).toMatchObject({ kind: 'deal', displayName: 'Deal d2' });
  });

  it('a merged-away record has its own history only; a synced record without activity has unknown churn risk; an unsynced one is not found', async () => {
    const empty = await buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'person', objectType: 'contact', externalId: 'p0' }, now, reportUrl });
    expect(empty.kpis).toEqual({
      lifetimeValue: [],
      activityCount: 1,
      openItems: 0,
      lastContactAt: '2026-03-15T09:00:00.000Z',
      churnRisk: { level: 'medium', score: 40, reasons: ['no contact for 107 days'] },
      rfm: { recencyDays: 107, frequency: 1, monetary: [] },
    });
    await record(db(), tenantId, installationId, 'contact', 'p5', { persons: [{ displayName: 'Quiet' }] });
    const quiet = await buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'person', objectType: 'contact', externalId: 'p5' }, now, reportUrl });
    expect(quiet.kpis).toEqual({ lifetimeValue: [], activityCount: 0, openItems: 0, lastContactAt: null, churnRisk: { level: 'unknown', score: 0, reasons: ['no activity recorded yet'] }, rfm: { recencyDays: null, frequency: 0, monetary: [] } });
    expect(quiet.timeline).toEqual([]);
    await expect(buildSummary(db().sql, testKeyring, { tenantId, installationId, subject: { kind: 'person', objectType: 'contact', externalId: 'nobody' }, now, reportUrl })).rejects.toThrow(/has not been synced/);
  });
});

describeOnTestDatabases('account activity summary across installations', (db) => {
  it("a person's summary covers every record identity resolution put in their profile, and names each source", async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', 'acme', 'Acme support', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    await record(db(), hub.tenantId, hub.installationId, 'contact', 'c1', { persons: [{ source: { objectType: 'contact', externalId: 'c1' }, displayName: 'Maya Ortiz', email: 'maya@birch.example' }] });
    await record(db(), hub.tenantId, zen!.id, 'user', 'u7', { persons: [{ source: { objectType: 'user', externalId: 'u7' }, email: 'maya@birch.example', emailVerified: true }] });
    await seed(db(), hub.tenantId, hub.installationId, [{ key: 'h1', kind: 'transaction', category: 'purchase', at: '2026-05-01T09:00:00Z', subject: 'c1', amount: ['400', 'EUR'] }]);
    await db().sql.query(
      `insert into activity (tenant_id, installation_id, kind, category, occurred_at, subject_kind, subject_object_type, subject_external_id, driver_type, driver_object_type, driver_external_id,
                             source_object_type, source_external_id, discriminator, summary, attributes)
       values ($1, $2, 'interaction', 'ticket', '2026-06-20T09:00:00Z', 'person', 'user', 'u7', 'ticket', 'ticket', 'z-1', 'ticket', 'z-1', 'opened', 'Ticket opened: Export fails',
               '{"driverState": {"title": "Export fails", "status": "open", "open": true}}')`,
      [hub.tenantId, zen!.id],
    );
    const subject = { kind: 'person' as const, objectType: 'contact', externalId: 'c1' };
    const before = await buildSummary(db().sql, testKeyring, { tenantId: hub.tenantId, installationId: hub.installationId, subject, now, reportUrl });
    expect(before.kpis.activityCount).toBe(1);

    await resolveTenant(db().sql, hub.tenantId);
    const after = await buildSummary(db().sql, testKeyring, { tenantId: hub.tenantId, installationId: hub.installationId, subject, now, reportUrl });
    expect(after.timeline.map((t) => [t.source.platform, t.summary])).toEqual([
      ['zendesk', 'Ticket opened: Export fails'],
      ['hubspot', 'purchase h1'],
    ]);
    expect(after.openItems.map((o) => [o.source.platform, o.title])).toEqual([['zendesk', 'Export fails']]);
    expect(after.sources.map((s) => s.platform)).toEqual(['hubspot', 'zendesk']);
    expect(after.kpis.lastContactAt).toBe('2026-06-20T09:00:00.000Z');
  });

  it("a driver's summary covers its own installation only, though another installation has a driver with the same id", async () => {
    const first = await seedInstallation(db(), { platform: 'zendesk' });
    const [second] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', 'other-desk', 'Other desk', 'http://127.0.0.1:9') returning id`,
      [first.tenantId],
    );
    const open = ticket('t-100', true);
    await seed(db(), first.tenantId, first.installationId, [
      { key: 'f1', kind: 'interaction', category: 'ticket', at: '2026-06-20T09:00:00Z', subject: 'u1', driver: open },
      { key: 'f2', kind: 'interaction', category: 'comment', at: '2026-06-21T09:00:00Z', subject: 'u2', driver: open },
    ]);
    await seed(db(), first.tenantId, second!.id, [{ key: 's1', kind: 'interaction', category: 'ticket', at: '2026-06-22T09:00:00Z', subject: 'u9', driver: open }]);
    const summary = await buildSummary(db().sql, testKeyring, { tenantId: first.tenantId, installationId: first.installationId, subject: { kind: 'driver', type: 'ticket', objectType: 'ticket', externalId: 't-100' }, now, reportUrl });
    expect(summary.timeline.map((t) => t.summary)).toEqual(['comment f2', 'ticket f1']);
    expect(summary.kpis.activityCount).toBe(2);
    expect(summary.openItems.map((o) => [o.source.installationId, o.title, o.openedAt])).toEqual([[first.installationId, 'Ticket t-100', '2026-06-20T09:00:00.000Z']]);
  });
});

it('churn risk: silence weighs 25 from 60 days and 40 from 90; levels at 30 and 60', () => {
  const base = { now, lastActivity: now, openTickets: 0, highPriorityOpen: 0, cancellations: 0, refunds: 0, hasHistory: true };
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
  expect(churnRisk({ ...base, lastContact: daysAgo(59) })).toEqual({ level: 'low', score: 0, reasons: [] });
  expect(churnRisk({ ...base, lastContact: daysAgo(60) })).toEqual({ level: 'low', score: 25, reasons: ['no contact for 60 days'] });
  expect(churnRisk({ ...base, lastContact: daysAgo(90) })).toEqual({ level: 'medium', score: 40, reasons: ['no contact for 90 days'] });
  expect(churnRisk({ ...base, lastContact: null, refunds: 2 })).toEqual({ level: 'medium', score: 55, reasons: ['no recorded contact', '2 refunds in 90 days'] });
  expect(churnRisk({ ...base, lastContact: daysAgo(95), cancellations: 1, highPriorityOpen: 2, openTickets: 4 })).toEqual({
    level: 'high',
    score: 100,
    reasons: ['no contact for 95 days', '1 cancellation in 90 days', '2 open high-priority tickets', '4 tickets opened in 30 days'],
  });
});
