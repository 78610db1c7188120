/**
 * The connector on recorded HubSpot HTTP (fixtures/backfill.json, replayed by nock; no emulator):
 * every stream backfills through the engine, every recorded request is used, and the canonical
 * records stored are exactly what the platform objects say.
 */
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { loadRecording, recordedToken, syncOnce, type Recording } from './replay.ts';

describe('HubSpot backfill replayed from recorded HTTP', () => {
  let db: TestDatabase;
  let recording: Recording;
  let installationId: string;
  let outcomes: string[];

  beforeAll(async () => {
    recording = loadRecording();
    db = await openPgliteTestDatabase();
    nock.disableNetConnect();
    nock.define(recording.definitions);
    ({ installationId, outcomes } = await syncOnce(db, recording.baseUrl, recording.portalId, recordedToken));
  });
  afterAll(async () => {
    nock.cleanAll();
    nock.enableNetConnect();
    await db?.close();
  });

  const canonical = async (objectType: string, externalId: string): Promise<unknown> =>
    (
      await db.sql.query<{ canonical: unknown }>(`select canonical from source_record where installation_id = $1 and object_type = $2 and external_id = $3`, [
        installationId,
        objectType,
        externalId,
      ])
    )[0]?.canonical;

  it('runs every stream to success on exactly the recorded requests', () => {
    expect(outcomes).toEqual(Array(9).fill('succeeded'));
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('stores one source record per listed object, per type', async () => {
    const listed: Record<string, number> = {};
    for (const d of recording.definitions) {
      const path = String(d.path);
      const m = /\/crm\/v3\/objects\/(\w+)\?/.exec(path);
      const results = (d.response as { results?: unknown[] }).results;
      if (!m || path.includes('archived=true') || !results) continue;
      const type = m[1]!.replace(/ies$/, 'y').replace(/s$/, '');
      listed[type] = (listed[type] ?? 0) + results.length;
    }
    const stored = await db.sql.query<{ object_type: string; n: string }>(`select object_type, count(*)::text as n from source_record where installation_id = $1 group by 1`, [installationId]);
    expect(Object.fromEntries(stored.map((s) => [s.object_type, Number(s.n)]))).toEqual(listed);
  });

  it('maps a contact to a person with E.164 phone, ISO country and its company', async () => {
    expect(await canonical('contact', '1000001')).toEqual({
      persons: [
        {
          source: { objectType: 'contact', externalId: '1000001' },
          email: 'dmitri.garcia.1@cobalt-logistics.example',
          phone: '+346613244401',
          firstName: 'Dmitri',
          lastName: 'Garcia',
          displayName: 'Dmitri Garcia',
          account: { objectType: 'company', externalId: '2000002' },
          mergedFrom: [],
          country: 'ES',
          attributes: { companyName: 'Cobalt Logistics', lifecycleStage: 'opportunity' },
        },
      ],
      accounts: [],
      activities: [
        {
          kind: 'profile_change',
          category: 'profile_created',
          occurredAt: '2026-08-29T05:37:11.121Z',
          subject: { kind: 'person', objectType: 'contact', externalId: '1000001' },
          source: { objectType: 'contact', externalId: '1000001' },
          discriminator: 'created',
          summary: 'HubSpot contact created: Dmitri Garcia',
          attributes: { lifecycleStage: 'opportunity' },
        },
      ],
    });
  });

  it('maps a company to an account with its bare domain', async () => {
    expect(await canonical('company', '2000001')).toEqual({
      persons: [],
      accounts: [
        {
          source: { objectType: 'company', externalId: '2000001' },
          name: 'Birch Logistics',
          domain: 'birch-logistics.example',
          country: 'US',
          mergedFrom: [],
          attributes: { industry: 'FOOD_BEVERAGES', employees: 1383, annualRevenue: '2340375' },
        },
      ],
      activities: [
        {
          kind: 'profile_change',
          category: 'profile_created',
          occurredAt: '2026-09-22T05:12:43.992Z',
          subject: { kind: 'account', objectType: 'company', externalId: '2000001' },
          source: { objectType: 'company', externalId: '2000001' },
          discriminator: 'created',
          summary: 'HubSpot company created: Birch Logistics',
          attributes: {},
        },
      ],
    });
  });

  it('maps a won existing-business deal to a renewal with its amount, under the deal, about its contact', async () => {
    const driver = { type: 'deal', objectType: 'deal', externalId: '3000007' };
    const about = { subject: { kind: 'person', objectType: 'contact', externalId: '1000027' }, driver, source: { objectType: 'deal', externalId: '3000007' } };
    expect(await canonical('deal', '3000007')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          ...about,
          kind: 'subscription',
          category: 'renewal_opened',
          occurredAt: '2026-08-17T13:51:52.704Z',
          discriminator: 'opened',
          summary: 'Renewal opened: Pilot 7 (47465 EUR)',
          attributes: { pipeline: 'default', driverState: { open: true, title: 'Pilot 7', status: 'Open' } },
        },
        {
          ...about,
          kind: 'subscription',
          category: 'renewal',
          occurredAt: '2026-11-02T09:50:49.078Z',
          discriminator: 'closed:won:2026-11-02T09:50:49.078Z',
          amount: { value: '47465', currency: 'EUR' },
          summary: 'Renewal won: Pilot 7 (47465 EUR)',
          attributes: { driverState: { open: false, title: 'Pilot 7', status: 'Closed won' } },
        },
      ],
    });
    const [stored] = await db.sql.query<{ amount: string; currency: string }>(
      `select amount::text, currency from activity where installation_id = $1 and source_external_id = '3000007' and category = 'renewal'`,
      [installationId],
    );
    expect(stored).toEqual({ amount: '47465.0000', currency: 'EUR' });
  });

  it('maps a closed ticket to an opened and a closed interaction under the ticket', async () => {
    const about = {
      kind: 'interaction',
      category: 'ticket',
      subject: { kind: 'person', objectType: 'contact', externalId: '1000030' },
      driver: { type: 'ticket', objectType: 'ticket', externalId: '4000004' },
      source: { objectType: 'ticket', externalId: '4000004' },
    };
    expect(await canonical('ticket', '4000004')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          ...about,
          occurredAt: '2026-10-09T21:35:16.464Z',
          discriminator: 'opened',
          summary: 'Ticket opened: Refund request (low priority)',
          attributes: { category: 'GENERAL_INQUIRY', priority: 'LOW', driverState: { open: true, title: 'Refund request', status: 'New' } },
        },
        {
          ...about,
          occurredAt: '2026-11-08T15:38:51.577Z',
          discriminator: 'closed:2026-11-08T15:38:51.577Z',
          summary: 'Ticket closed: Refund request',
          attributes: { priority: 'LOW', driverState: { open: false, title: 'Refund request', status: 'Closed' } },
        },
      ],
    });
  });

  it('maps a call to an interaction under the ticket it is associated with', async () => {
    expect(await canonical('call', '5000002')).toEqual({
      persons: [],
      accounts: [],
      activities: [
        {
          kind: 'interaction',
          category: 'call',
          occurredAt: '2026-08-04T10:18:20.387Z',
          subject: { kind: 'person', objectType: 'contact', externalId: '1000003' },
          driver: { type: 'ticket', objectType: 'ticket', externalId: '4000006' },
          source: { objectType: 'call', externalId: '5000002' },
          discriminator: 'main',
          summary: 'Call (outbound, 18 min): Check-in',
          actor: 'HubSpot owner 104',
          attributes: { status: 'COMPLETED', direction: 'outbound' },
        },
      ],
    });
  });
});
