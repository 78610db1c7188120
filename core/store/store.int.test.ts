import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { ActivityRecord, type ActivityRecordInput } from '../model/index.ts';
import { seedInstallation, testDatabases, type TestDatabase } from '../../test/support/database.ts';
import {
  InstallationEntity,
  TenantEntity,
  createInstallationDirectory,
  createTenantDirectory,
  ingestBatch,
  openDatabase,
  openTokens,
  sealTokens,
  type IngestSourceRecord,
} from './index.ts';

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

const record = (id: string, updatedAt: string, payload: Record<string, unknown>): IngestSourceRecord => ({
  objectType: 'contact',
  externalId: id,
  updatedAt: new Date(updatedAt),
  payload,
  deletedAt: null,
});

async function snapshot(db: TestDatabase) {
  const records = await db.sql.query(
    `select object_type, external_id, platform_updated_at, content_hash, payload, deleted_at, last_changed_at
       from source_record order by object_type, external_id`,
  );
  const activities = await db.sql.query(`select * from activity order by id`);
  return { records, activities };
}

for (const variant of testDatabases()) {
  describe.skipIf(variant.skipReason !== null)(`store on ${variant.label}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await variant.open();
    });
    afterAll(async () => {
      await db?.close();
    });

    it('applies every migration, and the schema then equals the entities', async () => {
      expect(await db.pendingMigrations()).toEqual([]);
      const diff = await db.orm.schema.getUpdateSchemaSQL({ wrap: false, safe: true, dropTables: false });
      expect(diff.trim()).toBe('');
    });

    it('round-trips a tenant and an installation with sealed tokens through the ORM', async () => {
      const em = db.fork();
      const tenant = em.create(TenantEntity, { slug: `acme-${randomBytes(3).toString('hex')}`, name: 'Acme' });
      await em.flush();
      const key = randomBytes(32);
      const installation = em.create(InstallationEntity, {
        tenant,
        platform: 'hubspot',
        platformAccountId: '12345',
        displayName: 'Acme portal',
        apiBaseUrl: 'https://api.hubapi.com',
        scopes: ['crm.objects.contacts.read'],
        installParams: {},
      });
      await em.flush();
      installation.sealedTokens = sealTokens(key, { tenantId: tenant.id, installationId: installation.id }, {
        accessToken: 'at',
        refreshToken: 'rt',
        expiresAt: new Date('2026-11-22T10:00:00Z'),
        scopes: ['crm.objects.contacts.read'],
        extra: {},
      });
      await em.flush();

      const loaded = await db.fork().findOneOrFail(InstallationEntity, { id: installation.id }, { populate: ['tenant'] });
      expect(loaded.tenant.slug).toBe(tenant.slug);
      expect(loaded.scopes).toEqual(['crm.objects.contacts.read']);
      expect(loaded.status).toBe('active');
      expect(openTokens(key, { tenantId: tenant.id, installationId: installation.id }, loaded.sealedTokens!).accessToken).toBe('at');
    });

    it('bulk-ingests records and activities, and re-ingesting the same batch changes nothing', async () => {
      const { tenantId, installationId } = await seedInstallation(db);
      const batch = {
        tenantId,
        installationId,
        sourceRecords: [record('c1', '2026-10-01T00:00:00Z', { id: 'c1', email: 'a@x.io' }), record('c2', '2026-10-01T00:00:00Z', { id: 'c2' })],
        activities: [activity('c1'), activity('c2', { amount: null, kind: 'interaction', category: 'email' })],
      };
      expect(await ingestBatch((s, p) => db.sql.query(s, p), batch)).toEqual({
        inserted: 2,
        updated: 0,
        skipped: 0,
        deleted: 0,
        activitiesAppended: 2,
        activitiesDuplicate: 0,
      });
      const before = await snapshot(db);
      expect(await ingestBatch((s, p) => db.sql.query(s, p), batch)).toEqual({
        inserted: 0,
        updated: 0,
        skipped: 2,
        deleted: 0,
        activitiesAppended: 0,
        activitiesDuplicate: 2,
      });
      expect(await snapshot(db)).toEqual(before);
      const [stored] = await db.sql.query<{ amount: string; currency: string; occurred_at: string; subject_external_id: string }>(
        `select amount, currency, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as occurred_at, subject_external_id
           from activity where installation_id = $1 and source_external_id = 'o-c1'`,
        [installationId],
      );
      expect(stored).toEqual({ amount: '19.9900', currency: 'EUR', occurred_at: '2026-10-01T10:00:00Z', subject_external_id: 'c1' });
    });

    it('updates changed content, refuses older payloads, and converges on ties whatever the order', async () => {
      const { tenantId, installationId } = await seedInstallation(db);
      const exec = (s: string, p?: readonly unknown[]) => db.sql.query(s, p);
      const write = (r: IngestSourceRecord) => ingestBatch(exec, { tenantId, installationId, sourceRecords: [r], activities: [] });
      await write(record('c1', '2026-10-02T00:00:00Z', { v: 2 }));
      expect((await write(record('c1', '2026-10-03T00:00:00Z', { v: 3 }))).updated).toBe(1);
      expect((await write(record('c1', '2026-10-01T00:00:00Z', { v: 1 }))).skipped).toBe(1);
      // Same instant, different content: the higher content hash wins in either order.
      await write(record('c1', '2026-10-04T00:00:00Z', { v: 'a' }));
      await write(record('c1', '2026-10-04T00:00:00Z', { v: 'b' }));
      const [one] = await db.sql.query<{ payload: unknown }>(`select payload from source_record where installation_id = $1`, [installationId]);
      const other = await seedInstallation(db);
      const writeOther = (r: IngestSourceRecord) => ingestBatch(exec, { ...other, sourceRecords: [r], activities: [] });
      await writeOther(record('c1', '2026-10-04T00:00:00Z', { v: 'b' }));
      await writeOther(record('c1', '2026-10-04T00:00:00Z', { v: 'a' }));
      const [two] = await db.sql.query<{ payload: unknown }>(`select payload from source_record where installation_id = $1`, [other.installationId]);
      expect(two!.payload).toEqual(one!.payload);
    });

    it('marks deletions without losing the last payload, and an older deletion does not win', async () => {
      const { tenantId, installationId } = await seedInstallation(db);
      const exec = (s: string, p?: readonly unknown[]) => db.sql.query(s, p);
      await ingestBatch(exec, { tenantId, installationId, sourceRecords: [record('c1', '2026-10-05T00:00:00Z', { id: 'c1', name: 'Ada' })], activities: [] });
      const stale = await ingestBatch(exec, {
        tenantId,
        installationId,
        sourceRecords: [{ ...record('c1', '2026-10-01T00:00:00Z', {}), deletedAt: new Date('2026-10-01T00:00:00Z') }],
        activities: [],
      });
      expect(stale.deleted).toBe(0);
      const fresh = await ingestBatch(exec, {
        tenantId,
        installationId,
        sourceRecords: [{ ...record('c1', '2026-10-06T00:00:00Z', {}), deletedAt: new Date('2026-10-06T00:00:00Z') }],
        activities: [],
      });
      expect(fresh.deleted).toBe(1);
      const [row] = await db.sql.query<{ payload: unknown; deleted_at: string }>(`select payload, deleted_at from source_record where installation_id = $1`, [installationId]);
      expect(row?.payload).toEqual({ id: 'c1', name: 'Ada' });
      expect(new Date(row!.deleted_at)).toEqual(new Date('2026-10-06T00:00:00Z'));
    });

    it('scopes tenants and installations: another tenant cannot see or uninstall them', async () => {
      const fork = () => db.fork();
      const tenants = createTenantDirectory(fork);
      const installations = createInstallationDirectory(fork);
      const a = await seedInstallation(db);
      const b = await seedInstallation(db);
      expect((await installations.listForTenant(a.tenantId)).map((i) => i.id)).toEqual([a.installationId]);
      expect(await installations.find(b.tenantId, a.installationId)).toBeNull();
      await expect(installations.markUninstalled(b.tenantId, a.installationId)).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
      const uninstalled = await installations.markUninstalled(a.tenantId, a.installationId);
      expect(uninstalled.status).toBe('uninstalled');
      await expect(tenants.create({ slug: (await tenants.list())[0]!.slug, name: 'dup' })).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    });
  });
}

describe('embedded database', () => {
  it('keeps what was written across a restart from the same data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'll-store-'));
    try {
      const first = await openDatabase({ dataDir });
      await first.migrate();
      await first.sql.query(`insert into tenant (slug, name) values ('kept', 'Kept across restarts')`);
      await first.close();
      const second = await openDatabase({ dataDir });
      expect(await second.pendingMigrations()).toEqual([]);
      expect(await second.sql.query(`select name from tenant where slug = 'kept'`)).toEqual([{ name: 'Kept across restarts' }]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reports an unreachable PostgreSQL server as LL_UNAVAILABLE naming DATABASE_URL', async () => {
    const error = await openDatabase({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isLedgerlineError(error, 'LL_UNAVAILABLE')).toBe(true);
    expect((error as { details: { field: string } }).details.field).toBe('DATABASE_URL');
    expect((error as Error).message).toMatch(/^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none/);
  });
});
