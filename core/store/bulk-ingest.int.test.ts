import { expect, it } from 'vitest';
import { ActivityRecord, type ActivityRecordInput } from '../model/index.ts';
import { describeOnTestDatabases, seedInstallation, type TestDatabase, testKeyring } from '../../test/support/database.ts';
import { contentHash, ingestBatch, type IngestBatch, type IngestSourceRecord, type SqlExecutor } from './index.ts';

const activity = (id: string, overrides: Partial<ActivityRecordInput> = {}): ActivityRecord =>
  ActivityRecord.parse({
    kind: 'transaction',
    category: 'purchase',
    occurredAt: '2026-10-01T10:00:00Z',
    subject: { kind: 'person', objectType: 'contact', externalId: id },
    source: { objectType: 'order', externalId: `o-${id}` },
    amount: { value: '19.9900', currency: 'EUR' },
    summary: `order for ${id}`,
    ...overrides,
  });

const record = (id: string, updatedAt: string, payload: Record<string, unknown>, canonical?: unknown): IngestSourceRecord => ({
  objectType: 'contact',
  externalId: id,
  updatedAt: new Date(updatedAt),
  payload,
  deletedAt: null,
  ...(canonical === undefined ? {} : { canonical }),
});

const deletion = (id: string, at: string): IngestSourceRecord => ({ ...record(id, at, {}), deletedAt: new Date(at) });

const none = { inserted: 0, updated: 0, unchanged: 0, stale: 0, deleted: 0, activitiesAppended: 0, activitiesDuplicate: 0 };

async function rowsOf(db: TestDatabase, installationId: string) {
  const records = await db.execute(
    `select object_type, external_id, platform_updated_at, content_hash, payload, canonical, first_seen_at, last_changed_at, deleted_at
       from source_record where installation_id = $1 order by object_type, external_id`,
    [installationId],
  );
  const activities = await db.execute(`select * from activity where installation_id = $1 order by id`, [installationId]);
  return { records, activities };
}

describeOnTestDatabases('bulk ingest', (db) => {
  const exec: SqlExecutor = (text, params) => db().execute(text, params);
  const seededIds = () => seedInstallation(db());
  const seeded = async () => {
    const ids = await seededIds();
    const write = (sourceRecords: IngestSourceRecord[], activities: ActivityRecord[] = []) =>
      ingestBatch(exec, { ...ids, sourceRecords, activities, keyring: testKeyring });
    return { ...ids, write };
  };

  it('inserts a batch, and re-ingesting it changes nothing: same counts, same rows, no new activities', async () => {
    const { installationId, write } = await seeded();
    const canonical = { persons: [{ email: 'a@x.io' }] };
    const records = [record('c1', '2026-10-01T00:00:00Z', { id: 'c1', email: 'a@x.io' }, canonical), record('c2', '2026-10-01T00:00:00Z', { id: 'c2' })];
    const activities = [activity('c1'), activity('c2', { amount: null, kind: 'interaction', category: 'email' })];

    expect(await write(records, activities)).toEqual({ ...none, inserted: 2, activitiesAppended: 2 });
    const before = await rowsOf(db(), installationId);
    expect(before.records.map((r) => [r.external_id, r.content_hash, r.canonical])).toEqual([
      ['c1', contentHash({ email: 'a@x.io', id: 'c1' }), canonical],
      ['c2', contentHash({ id: 'c2' }), null],
    ]);

    for (let replay = 0; replay < 2; replay++) {
      expect(await write(records, activities)).toEqual({ ...none, unchanged: 2, activitiesDuplicate: 2 });
    }
    expect(await rowsOf(db(), installationId)).toEqual(before);

    const [stored] = await db().execute<{ amount: string; currency: string; occurred_at: string; subject_external_id: string }>(
      `select amount, currency, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as occurred_at, subject_external_id
         from activity where installation_id = $1 and source_external_id = 'o-c1'`,
      [installationId],
    );
    expect(stored).toEqual({ amount: '19.9900', currency: 'EUR', occurred_at: '2026-10-01T10:00:00Z', subject_external_id: 'c1' });
  });

  it('hashes content by value, not by key order', async () => {
    const { write } = await seeded();
    await write([record('c1', '2026-10-01T00:00:00Z', { a: 1, b: { c: 2, d: [1, 2] } })]);
    expect(await write([record('c1', '2026-10-01T00:00:00Z', { b: { d: [1, 2], c: 2 }, a: 1 })])).toEqual({ ...none, unchanged: 1 });
  });

  it('updates changed content and refuses a payload older than the stored one', async () => {
    const { installationId, write } = await seeded();
    await write([record('c1', '2026-10-02T00:00:00Z', { v: 2 })]);
    expect(await write([record('c1', '2026-10-03T00:00:00Z', { v: 3 })])).toEqual({ ...none, updated: 1 });
    expect(await write([record('c1', '2026-10-01T00:00:00Z', { v: 1 })])).toEqual({ ...none, stale: 1 });
    const [row] = await db().execute<{ payload: unknown; platform_updated_at: string }>(
      `select payload, platform_updated_at from source_record where installation_id = $1`,
      [installationId],
    );
    expect(row!.payload).toEqual({ v: 3 });
    expect(new Date(row!.platform_updated_at)).toEqual(new Date('2026-10-03T00:00:00Z'));
  });

  it('converges on the same row at one instant whatever the arrival order', async () => {
    const first = await seeded();
    await first.write([record('c1', '2026-10-04T00:00:00Z', { v: 'a' })]);
    await first.write([record('c1', '2026-10-04T00:00:00Z', { v: 'b' })]);
    const second = await seeded();
    await second.write([record('c1', '2026-10-04T00:00:00Z', { v: 'b' })]);
    await second.write([record('c1', '2026-10-04T00:00:00Z', { v: 'a' })]);
    const payloadOf = async (installationId: string) =>
      (await db().execute<{ payload: unknown }>(`select payload from source_record where installation_id = $1`, [installationId]))[0]?.payload;
    expect(await payloadOf(second.installationId)).toEqual(await payloadOf(first.installationId));
  });

  it('keeps the newest copy of a key repeated within one batch, and counts the others', async () => {
    const { installationId, write } = await seeded();
    const result = await write(
      [
        record('c1', '2026-10-02T00:00:00Z', { v: 2 }),
        record('c1', '2026-10-03T00:00:00Z', { v: 3 }),
        record('c1', '2026-10-01T00:00:00Z', { v: 1 }),
        record('c1', '2026-10-03T00:00:00Z', { v: 3 }),
      ],
      [activity('c1'), activity('c1')],
    );
    expect(result).toEqual({ ...none, inserted: 1, stale: 2, unchanged: 1, activitiesAppended: 1, activitiesDuplicate: 1 });
    const rows = await db().execute<{ payload: unknown }>(`select payload from source_record where installation_id = $1`, [installationId]);
    expect(rows).toEqual([{ payload: { v: 3 } }]);
  });

  it('marks deletions without losing the last payload; an older deletion does not win; a newer payload revives', async () => {
    const { installationId, write } = await seeded();
    await write([record('c1', '2026-10-05T00:00:00Z', { id: 'c1', name: 'Ada' })]);
    expect(await write([deletion('c1', '2026-10-01T00:00:00Z')])).toEqual(none);
    expect(await write([deletion('c1', '2026-10-06T00:00:00Z')])).toEqual({ ...none, deleted: 1 });
    expect(await write([deletion('c1', '2026-10-06T00:00:00Z')])).toEqual(none);
    const stateOf = async () =>
      (await db().execute<{ payload: unknown; deleted_at: string | null }>(`select payload, deleted_at from source_record where installation_id = $1`, [installationId]))[0];
    const deleted = await stateOf();
    expect(deleted?.payload).toEqual({ id: 'c1', name: 'Ada' });
    expect(new Date(deleted!.deleted_at!)).toEqual(new Date('2026-10-06T00:00:00Z'));

    expect(await write([record('c1', '2026-10-07T00:00:00Z', { id: 'c1', name: 'Ada', back: true })])).toEqual({ ...none, updated: 1 });
    expect((await stateOf())?.deleted_at).toBeNull();
  });

  it('writes in the caller\'s transaction: a rollback leaves nothing behind', async () => {
    const { tenantId, installationId } = await seededIds();
    const batch: IngestBatch = { tenantId, installationId, sourceRecords: [record('c1', '2026-10-01T00:00:00Z', { id: 'c1' })], activities: [activity('c1')], keyring: testKeyring };
    await expect(
      db().sql.transaction(async (tx) => {
        expect((await ingestBatch((text, params) => tx.query(text, params), batch)).inserted).toBe(1);
        throw new Error('the checkpoint could not be written');
      }),
    ).rejects.toThrow('the checkpoint could not be written');
    expect(await rowsOf(db(), installationId)).toEqual({ records: [], activities: [] });
  });

  it("refuses to write into another tenant's installation", async () => {
    const a = await seededIds();
    const b = await seededIds();
    await expect(
      ingestBatch(exec, { tenantId: b.tenantId, installationId: a.installationId, sourceRecords: [record('c1', '2026-10-01T00:00:00Z', {})], activities: [], keyring: testKeyring }),
    ).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
    expect(await rowsOf(db(), a.installationId)).toEqual({ records: [], activities: [] });
  });
});
