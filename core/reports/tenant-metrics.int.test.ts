/**
 * Tenant metrics against a hand-computed fixture: refunds (one exceeding the purchase), a customer
 * whose two records (HubSpot and Zendesk) are one profile, people without revenue or without any
 * activity, another currency, activity after the period, both definitions of "lost", a merge that
 * lands mid-period, and the restriction to a segment's customers.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import type { ActivityRecord } from '../model/index.ts';
import { ingestBatch } from '../store/index.ts';
import { tenantMetrics } from './tenant-metrics.ts';

type Money = readonly [string, string];

function activity(person: string, objectType: string, kind: ActivityRecord['kind'], category: string, at: string, amount: Money | null, key = randomUUID()): ActivityRecord {
  return {
    kind,
    category,
    occurredAt: new Date(at),
    subject: { kind: 'person', objectType, externalId: person },
    driver: null,
    source: { objectType: 'event', externalId: key },
    discriminator: 'main',
    amount: amount ? { value: amount[0], currency: amount[1] } : null,
    summary: `${category} of ${person}`,
    attributes: {},
  };
}

describeOnTestDatabases('tenant metrics', (db) => {
  async function fixture() {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', $2, 'Support', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId, `metrics-${randomUUID()}`],
    );
    const ingest = (installationId: string, activities: ActivityRecord[]) =>
      db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: hub.tenantId, installationId, sourceRecords: [], activities, keyring: testKeyring }));
    await ingest(hub.installationId, [
      activity('a', 'contact', 'transaction', 'purchase', '2026-08-05T10:00:00Z', ['100', 'EUR']),
      activity('a', 'contact', 'transaction', 'refund', '2026-10-10T10:00:00Z', ['30', 'EUR']),
      activity('b', 'contact', 'transaction', 'purchase', '2026-09-01T10:00:00Z', ['50', 'EUR']),
      activity('b', 'contact', 'subscription', 'cancellation', '2026-10-15T10:00:00Z', null),
      activity('c', 'contact', 'transaction', 'purchase', '2026-10-20T10:00:00Z', ['200', 'EUR']),
      // Refunds exceeding purchases.
      activity('d', 'contact', 'transaction', 'purchase', '2026-07-01T10:00:00Z', ['40', 'EUR']),
      activity('d', 'contact', 'transaction', 'refund', '2026-09-10T10:00:00Z', ['60', 'EUR']),
      // One person in two systems (resolved into one profile below).
      activity('e1', 'contact', 'transaction', 'purchase', '2026-06-01T10:00:00Z', ['80', 'EUR']),
      activity('g', 'contact', 'interaction', 'email', '2026-10-02T10:00:00Z', null),
      activity('h', 'contact', 'transaction', 'purchase', '2026-09-20T10:00:00Z', ['10', 'USD']),
      activity('i', 'contact', 'transaction', 'purchase', '2026-11-05T10:00:00Z', ['999', 'EUR']),
      activity('j', 'contact', 'transaction', 'purchase', '2026-05-01T10:00:00Z', ['25', 'EUR']),
    ]);
    await ingest(zen!.id, [activity('e2', 'user', 'subscription', 'renewal', '2026-10-05T10:00:00Z', ['20', 'EUR'])]);
    const profile = randomUUID();
    await db().sql.query(
      `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor) values
         ($1, $2, 'contact', 'e1', 'person', $4, 'e'), ($1, $3, 'user', 'e2', 'person', $4, 'e')`,
      [hub.tenantId, hub.installationId, zen!.id, profile],
    );
    const key = (person: string) => `${hub.installationId}/contact/${person}`;
    return { tenantId: hub.tenantId, profile, key };
  }
  const period = { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') };

  it('counts customers by profile, churn by cancellation, CLV per currency net of refunds, and CAC', async () => {
    const { tenantId, profile, key } = await fixture();
    const metrics = await tenantMetrics(db().sql, { tenantId, ...period, lost: { kind: 'cancellation' }, spend: [{ currency: 'EUR', amount: 500 }] });
    // At start: a, b, d, e (one profile for e1 + e2), h, j. New: c. Lost: b. i is after the period; g never paid.
    expect(metrics.drillDown).toEqual({
      atStart: [key('a'), key('b'), key('d'), key('h'), key('j'), profile].sort(),
      new: [key('c')],
      lost: [key('b')],
    });
    expect(metrics).toMatchObject({ customersAtStart: 6, newCustomers: 1, lostCustomers: 1, churnRate: 0.1667 });
    // EUR: a 70 + b 50 + c 200 + d −20 + e 100 + j 25 = 425 over 6 customers; USD: h 10 over 1.
    expect(metrics.clv).toEqual([
      { currency: 'EUR', value: 70.83, customers: 6 },
      { currency: 'USD', value: 10, customers: 1 },
    ]);
    expect(metrics.cac).toEqual([{ currency: 'EUR', value: 500 }]);
  });

  it('with "lost" as 30 days without activity, loses each customer once, when the mark falls in the period', async () => {
    const { tenantId, key } = await fixture();
    const metrics = await tenantMetrics(db().sql, { tenantId, ...period, lost: { kind: 'inactive', days: 30 } });
    // j went quiet in May (lost before the period, so not at start); d (last seen 09-10) and h (09-20) cross 30 days in October.
    expect(metrics.drillDown.lost).toEqual([key('d'), key('h')]);
    expect(metrics).toMatchObject({ customersAtStart: 5, newCustomers: 1, lostCustomers: 2, churnRate: 0.4 });
    expect(metrics.cac).toEqual([]);
  });

  it('a tenant without activity has no customers and no churn rate rather than a division by zero', async () => {
    const { tenantId } = await seedInstallation(db());
    expect(await tenantMetrics(db().sql, { tenantId, ...period, lost: { kind: 'cancellation' }, spend: [{ currency: 'EUR', amount: 100 }] })).toEqual({
      customersAtStart: 0,
      newCustomers: 0,
      lostCustomers: 0,
      churnRate: null,
      clv: [],
      cac: [],
      drillDown: { atStart: [], new: [], lost: [] },
    });
  });

  it('restricts every figure to the customers of a segment', async () => {
    const { tenantId, profile, key } = await fixture();
    const customers = [key('a'), key('b'), key('c'), profile, key('g')];
    const metrics = await tenantMetrics(db().sql, { tenantId, ...period, lost: { kind: 'cancellation' }, spend: [{ currency: 'EUR', amount: 500 }], customers });
    // At start: a, b, e; new: c; lost: b (cancelled). g never paid, so is no customer.
    expect(metrics.drillDown).toEqual({ atStart: [key('a'), key('b'), profile].sort(), new: [key('c')], lost: [key('b')] });
    expect(metrics).toMatchObject({ customersAtStart: 3, newCustomers: 1, lostCustomers: 1, churnRate: 0.3333 });
    // EUR: a 70 + b 50 + c 200 + e 100 = 420 over 4 customers.
    expect(metrics.clv).toEqual([{ currency: 'EUR', value: 105, customers: 4 }]);
    expect(metrics.cac).toEqual([{ currency: 'EUR', value: 500 }]);
    const none = await tenantMetrics(db().sql, { tenantId, ...period, lost: { kind: 'cancellation' }, spend: [{ currency: 'EUR', amount: 500 }], customers: [] });
    expect(none).toMatchObject({ customersAtStart: 0, newCustomers: 0, churnRate: null, clv: [], cac: [] });
  });

  it('refunds larger than every purchase leave a negative lifetime value, not a missing customer', async () => {
    const { tenantId, key } = await fixture();
    const metrics = await tenantMetrics(db().sql, { tenantId, ...period, lost: { kind: 'cancellation' }, customers: [key('d')] });
    // d bought 40 and was refunded 60: still a customer at start, worth −20.
    expect(metrics).toMatchObject({ customersAtStart: 1, newCustomers: 0, clv: [{ currency: 'EUR', value: -20, customers: 1 }] });
  });

  it('counts two records merged into one profile mid-period once, by their first revenue', async () => {
    const { tenantId: t, installationId } = await seedInstallation(db(), { platform: 'hubspot' });
    const [shop] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'shopify', $2, 'Shop', 'http://127.0.0.1:9') returning id`,
      [t, `metrics-${randomUUID()}`],
    );
    const ingest = (id: string, activities: ActivityRecord[]) =>
      db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: t, installationId: id, sourceRecords: [], activities, keyring: testKeyring }));
    // One person: a HubSpot contact who paid in August and a Shopify customer who ordered in October.
    await ingest(installationId, [activity('x', 'contact', 'transaction', 'purchase', '2026-08-10T10:00:00Z', ['100', 'EUR'])]);
    await ingest(shop!.id, [activity('y', 'customer', 'transaction', 'purchase', '2026-10-12T10:00:00Z', ['60', 'EUR'])]);
    const request = { tenantId: t, ...period, lost: { kind: 'cancellation' as const }, spend: [{ currency: 'EUR', amount: 90 }] };
    const before = await tenantMetrics(db().sql, request);
    expect(before).toMatchObject({ customersAtStart: 1, newCustomers: 1, cac: [{ currency: 'EUR', value: 90 }] });
    // Identity resolution joins them on 2026-10-20: from then on the history reads as one customer since August.
    const profile = randomUUID();
    await db().sql.query(
      `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor) values
         ($1, $2, 'contact', 'x', 'person', $4, 'x'), ($1, $3, 'customer', 'y', 'person', $4, 'x')`,
      [t, installationId, shop!.id, profile],
    );
    const after = await tenantMetrics(db().sql, request);
    expect(after).toEqual({
      customersAtStart: 1,
      newCustomers: 0,
      lostCustomers: 0,
      churnRate: 0,
      clv: [{ currency: 'EUR', value: 160, customers: 1 }],
      cac: [],
      drillDown: { atStart: [profile], new: [], lost: [] },
    });
  });
});
