/**
 * Segments on a fixture small enough to score by hand: a person with a HubSpot and a Zendesk
 * record resolved into one profile, a person whose country is their company's, a deleted record,
 * a person known only from activities, products named in attributes three ways, and another
 * tenant with a look-alike. Then the saved-segment store and its ledger entries.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { LedgerlineError } from '../errors/index.ts';
import type { ActivityRecord } from '../model/index.ts';
import { ingestBatch } from '../store/index.ts';
import type { SegmentCondition, SegmentDefinitionInput } from './report-model.ts';
import { SegmentDefinition } from './report-model.ts';
import { createSegmentStore, segmentCustomers } from './segments.ts';

const asOf = new Date('2026-11-01T00:00:00Z');

function activity(subject: [string, string], kind: ActivityRecord['kind'], category: string, at: string, amount: string | null = null, attributes: Record<string, unknown> = {}): ActivityRecord {
  return {
    kind,
    category,
    occurredAt: new Date(at),
    subject: { kind: 'person', objectType: subject[0], externalId: subject[1] },
    driver: null,
    source: { objectType: 'event', externalId: randomUUID() },
    discriminator: 'main',
    amount: amount === null ? null : { value: amount, currency: 'EUR' },
    summary: `${category} of ${subject[1]}`,
    attributes,
  };
}

async function refusal(work: Promise<unknown>): Promise<{ code: string; field: string | undefined }> {
  try {
    await work;
  } catch (error) {
    if (error instanceof LedgerlineError) return { code: error.code, field: error.details.field };
    throw error;
  }
  throw new Error('expected a refusal');
}

describeOnTestDatabases('segments', (db) => {
  async function fixture() {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const tenantId = hub.tenantId;
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', $2, 'Support', 'http://127.0.0.1:9') returning id`,
      [tenantId, `segments-${randomUUID()}`],
    );
    const z = zen!.id;
    const record = (installationId: string, objectType: string, id: string, canonical: unknown, deleted = false) =>
      db().sql.query(
        `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical, deleted_at) values ($1, $2, $3, $4, 'h', '{}', $5, $6)`,
        [tenantId, installationId, objectType, id, JSON.stringify(canonical), deleted ? asOf.toISOString() : null],
      );
    await record(hub.installationId, 'contact', 'p1', { persons: [{ email: 'ana@birch.example', firstName: 'Ana', country: 'ES', attributes: { lifecycleStage: 'customer' } }] });
    await record(z, 'user', 'u1', { persons: [{ email: 'ana@birch.example', displayName: 'Ana B.' }] });
    await record(hub.installationId, 'contact', 'p2', { persons: [{ firstName: 'Benito', account: { objectType: 'company', externalId: 'c1' }, attributes: { lifecycleStage: 'lead' } }] });
    await record(hub.installationId, 'company', 'c1', { accounts: [{ name: 'Acme', country: 'DE' }] });
    await record(z, 'user', 'u3', { persons: [{ displayName: 'Cleo', country: 'FR', attributes: { tags: ['vip'] } }] });
    await record(hub.installationId, 'contact', 'p4', { persons: [{ firstName: 'Gone', country: 'ES' }] }, true);
    await record(hub.installationId, 'contact', 'p5', { persons: [{ email: 'dan@birch.example', firstName: 'Dan' }] });
    const ingest = (installationId: string, activities: ActivityRecord[]) =>
      db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId, installationId, sourceRecords: [], activities, keyring: testKeyring }));
    await ingest(hub.installationId, [
      activity(['contact', 'p1'], 'transaction', 'purchase', '2026-10-10T10:00:00Z', '100', { products: ['Widget Pro'] }),
      activity(['contact', 'p1'], 'login', 'login_succeeded', '2026-10-20T10:00:00Z'),
      activity(['contact', 'p2'], 'transaction', 'purchase', '2026-06-01T10:00:00Z', '500', { lineItems: [{ sku: 'GADGET-1', quantity: 2 }] }),
      activity(['contact', 'p2'], 'interaction', 'email', '2026-09-01T10:00:00Z'),
      activity(['contact', 'q9'], 'interaction', 'email', '2025-01-01T10:00:00Z'),
      // After asOf: invisible to every condition.
      activity(['contact', 'p5'], 'transaction', 'purchase', '2026-11-02T10:00:00Z', '900', { product: 'Widget Pro' }),
    ]);
    await ingest(z, [
      activity(['user', 'u1'], 'interaction', 'ticket', '2026-10-25T10:00:00Z'),
      activity(['user', 'u3'], 'transaction', 'purchase', '2026-10-30T10:00:00Z', '20', { product: 'widget pro' }),
      activity(['user', 'u3'], 'transaction', 'refund', '2026-10-31T10:00:00Z', '20', { product: 'Gadget-1' }),
    ]);
    const profile = randomUUID();
    await db().sql.query(
      `insert into identity_member (tenant_id, installation_id, object_type, external_id, kind, profile_id, anchor) values
         ($1, $2, 'contact', 'p1', 'person', $4, 'ana'), ($1, $3, 'user', 'u1', 'person', $4, 'ana')`,
      [tenantId, hub.installationId, z, profile],
    );
    // Another tenant's look-alike never shows up.
    const other = await seedInstallation(db(), { platform: 'zendesk' });
    await db().sql.query(
      `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical) values ($1, $2, 'user', 'u1', 'h', '{}', $3)`,
      [other.tenantId, other.installationId, JSON.stringify({ persons: [{ email: 'ana@birch.example', country: 'ES' }] })],
    );
    const ana = profile;
    const ben = `${hub.installationId}/contact/p2`;
    const cleo = `${z}/user/u3`;
    const dan = `${hub.installationId}/contact/p5`;
    const quiet = `${hub.installationId}/contact/q9`;
    const matching = (match: 'all' | 'any', ...conditions: SegmentCondition[]) =>
      segmentCustomers(db().sql, tenantId, SegmentDefinition.parse({ name: 'test', match, conditions }), asOf);
    const one = (condition: SegmentDefinitionInput['conditions'][number]) => segmentCustomers(db().sql, tenantId, SegmentDefinition.parse({ name: 'test', conditions: [condition] }), asOf);
    return { tenantId, ana, ben, cleo, dan, quiet, one, matching };
  }

  let f: Awaited<ReturnType<typeof fixture>>;
  const sorted = (...keys: string[]) => [...keys].sort();

  it('matches attributes on any record of a profile, ignoring case, with not_equals as the complement', async () => {
    f = await fixture();
    expect(await f.one({ type: 'attribute', field: 'email', op: 'equals', value: 'ANA@birch.example' })).toEqual([f.ana]);
    expect(await f.one({ type: 'attribute', field: 'firstName', op: 'contains', value: 'NIT' })).toEqual([f.ben]);
    expect(await f.one({ type: 'attribute', field: 'attributes.tags', op: 'present' })).toEqual([f.cleo]);
    // Everyone who is not a "customer" stage: the record-less q9 and the record-only p5 included; p4 is deleted.
    expect(await f.one({ type: 'attribute', field: 'attributes.lifecycleStage', op: 'not_equals', value: 'customer' })).toEqual(sorted(f.ben, f.cleo, f.dan, f.quiet));
  });

  it("matches a country on the person, else on the person's account, skipping deleted records", async () => {
    expect(await f.one({ type: 'country', countries: ['DE'] })).toEqual([f.ben]);
    expect(await f.one({ type: 'country', countries: ['ES'] })).toEqual([f.ana]);
    expect(await f.one({ type: 'country', countries: ['FR', 'DE'] })).toEqual(sorted(f.ben, f.cleo));
  });

  it('matches the platforms a customer has a record in', async () => {
    expect(await f.one({ type: 'platform', platforms: ['zendesk'] })).toEqual(sorted(f.ana, f.cleo));
    expect(await f.one({ type: 'platform', platforms: ['shopify'] })).toEqual([]);
  });

  it('scores RFM quintiles over the tenant as of a date', async () => {
    // Recency: q9 (2025) 1, p2 (Sep) 2, Ana (Oct 25) 4, Cleo (Oct 31) 5. Frequency in 365 days (interactions and
    // transactions; Ana's login does not count): q9 0 → 1; Ana, p2 and Cleo 2 each → 2. Monetary: q9 0 and Cleo
    // 20 − 20 = 0 → 1, Ana 100 → 4, p2 500 → 5.
    expect(await f.one({ type: 'rfm', recency: [4, 5] })).toEqual(sorted(f.ana, f.cleo));
    expect(await f.one({ type: 'rfm', monetary: [5, 5] })).toEqual([f.ben]);
    expect(await f.one({ type: 'rfm', frequency: [2, 2] })).toEqual(sorted(f.ana, f.ben, f.cleo));
    expect(await f.one({ type: 'rfm', frequency: [2, 5], monetary: [4, 5] })).toEqual(sorted(f.ana, f.ben));
    expect(await f.one({ type: 'rfm', monetary: [1, 1] })).toEqual(sorted(f.cleo, f.quiet));
  });

  it('counts activities in the days before asOf, and with min 0 includes customers without any', async () => {
    expect(await f.one({ type: 'activity', kind: 'interaction', days: 30 })).toEqual([f.ana]);
    expect(await f.one({ type: 'activity', kind: 'transaction', days: 30, min: 2 })).toEqual([f.cleo]);
    expect(await f.one({ type: 'activity', category: 'purchase', days: 365, min: 1, max: 1 })).toEqual(sorted(f.ana, f.ben, f.cleo));
    expect(await f.one({ type: 'activity', kind: 'transaction', days: 365, min: 0, max: 0 })).toEqual(sorted(f.dan, f.quiet));
  });

  it('finds buyers of a product named in product, products[] or lineItems[], never by a refund', async () => {
    expect(await f.one({ type: 'product', product: 'WIDGET PRO' })).toEqual(sorted(f.ana, f.cleo));
    expect(await f.one({ type: 'product', product: 'gadget-1' })).toEqual([f.ben]);
    expect(await f.one({ type: 'product', product: 'Sprocket' })).toEqual([]);
  });

  it('intersects conditions for "all" and unites them for "any"', async () => {
    expect(await f.matching('any', { type: 'country', countries: ['DE'] }, { type: 'platform', platforms: ['zendesk'] })).toEqual(sorted(f.ana, f.ben, f.cleo));
    expect(await f.matching('all', { type: 'product', product: 'Widget Pro' }, { type: 'country', countries: ['ES'] })).toEqual([f.ana]);
  });

  it('refuses conditions the schema alone cannot catch', async () => {
    const definition = SegmentDefinition.parse({ name: 'x', conditions: [{ type: 'attribute', field: 'email', op: 'equals' }] });
    expect(await refusal(segmentCustomers(db().sql, f.tenantId, definition, asOf))).toEqual({ code: 'LL_INVALID_INPUT', field: 'conditions.0.value' });
  });

  it('saves, lists, replaces and removes segments, each change in the ledger', async () => {
    const store = createSegmentStore(db().sql);
    const input = { name: 'Spanish customers', conditions: [{ type: 'country', countries: ['ES'] }] };
    const saved = await store.save(f.tenantId, 'spain', input, 'ana@ledgerline.test');
    expect(saved).toMatchObject({ slug: 'spain', updatedBy: 'ana@ledgerline.test', definition: { name: 'Spanish customers', description: '', match: 'all' } });
    await store.save(f.tenantId, 'spain', { ...input, name: 'Spain' }, 'ben@ledgerline.test');
    expect((await store.list(f.tenantId)).map((s) => [s.slug, s.definition.name, s.updatedBy])).toEqual([['spain', 'Spain', 'ben@ledgerline.test']]);
    expect(await store.size(f.tenantId, 'spain')).toBe(1);
    await store.remove(f.tenantId, 'spain', 'ana@ledgerline.test');
    expect(await store.get(f.tenantId, 'spain')).toBeNull();
    const entries = await db().sql.query<{ kind: string; body: Record<string, unknown> }>(`select kind, body from ledger_entry where tenant_id = $1 and kind like 'segment.%' order by seq`, [f.tenantId]);
    expect(entries.map((e) => [e.kind, e.body.slug, e.body.by, (e.body.definition as { name?: string } | undefined)?.name])).toEqual([
      ['segment.saved', 'spain', 'ana@ledgerline.test', 'Spanish customers'],
      ['segment.saved', 'spain', 'ben@ledgerline.test', 'Spain'],
      ['segment.removed', 'spain', 'ana@ledgerline.test', undefined],
    ]);
  });

  it('refuses bad slugs, invalid definitions and removing what is not there, writing nothing', async () => {
    const store = createSegmentStore(db().sql);
    const valid = { name: 'x', conditions: [{ type: 'platform', platforms: ['hubspot'] }] };
    expect(await refusal(store.save(f.tenantId, 'Bad Slug', valid, 'ana'))).toEqual({ code: 'LL_INVALID_INPUT', field: 'slug' });
    expect(await refusal(store.save(f.tenantId, 'empty', { name: 'x', conditions: [] }, 'ana'))).toEqual({ code: 'LL_INVALID_INPUT', field: 'conditions' });
    expect(await refusal(store.save(f.tenantId, 'upside', { name: 'x', conditions: [{ type: 'rfm', recency: [5, 1] }] }, 'ana'))).toEqual({ code: 'LL_INVALID_INPUT', field: 'conditions.0.recency' });
    expect(await refusal(store.remove(f.tenantId, 'missing', 'ana'))).toEqual({ code: 'LL_NOT_FOUND', field: 'slug' });
    expect(await refusal(store.size(f.tenantId, 'missing'))).toEqual({ code: 'LL_NOT_FOUND', field: 'slug' });
    expect(await store.list(f.tenantId)).toEqual([]);
  });
});
