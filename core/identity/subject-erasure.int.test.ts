/**
 * Erasure by crypto-shredding, in the database: after a person is erased their personal data can
 * no longer be read anywhere Ledgerline keeps it, the ledger chain still verifies byte for byte,
 * the erasure itself is on the ledger, a re-sync does not bring the data back, and nobody else's
 * data is touched.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { listEntries } from '../ledger/ledger.ts';
import { verifyChain } from '../ledger/verify.ts';
import { openActivityFields } from '../privacy/index.ts';
import { contentHash, ingestBatch, type Database } from '../store/index.ts';
import { resolveTenant } from './identity-store.ts';
import { eraseSubject } from './subject-erasure.ts';
import { exportSubject } from './subject-export.ts';

const activity = (subject: string, objectType: string, key: string, summary: string, ip: string) => ({
  kind: 'login' as const,
  category: 'login_succeeded',
  occurredAt: new Date('2026-11-01T10:00:00Z'),
  subject: { kind: 'person' as const, objectType, externalId: subject },
  driver: null,
  source: { objectType: 'login', externalId: key },
  discriminator: 'main',
  amount: null,
  summary,
  actor: 'Support bot',
  attributes: { ip, country: 'DE', device: 'iPhone of Kim' },
});

async function personRecord(db: Database, tenantId: string, installationId: string, objectType: string, id: string, email: string, name: string, at: string) {
  const payload = { id, email, name };
  await db.sql.transaction((tx) =>
    ingestBatch((s, p) => tx.query(s, p), {
      tenantId,
      installationId,
      keyring: testKeyring,
      sourceRecords: [{ objectType, externalId: id, updatedAt: new Date(at), payload, canonical: { persons: [{ source: { objectType, externalId: id }, mergedFrom: [], email, displayName: name }], accounts: [], activities: [] } }],
      activities: [],
    }),
  );
}

/** Every place personal data could sit, as one text to search. */
async function everything(db: Database, tenantId: string): Promise<string> {
  const tables = ['activity', 'ledger_entry', 'source_record', 'person', 'identity_member', 'identity_review', 'notification'];
  const parts: string[] = [];
  for (const table of tables) parts.push(JSON.stringify(await db.sql.query(`select * from ${table} where tenant_id = $1`, [tenantId])));
  return parts.join('\n');
}

describeOnTestDatabases('erasure', (db) => {
  it('destroys a person\'s keys across installations: their data is unreadable everywhere, the chain verifies, the erasure is on the ledger', async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', 'erasure', 'Support', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    await personRecord(db(), t, hub.installationId, 'contact', '21', 'kim@birch.example', 'Kim Lindqvist', '2026-10-01T00:00:00Z');
    await personRecord(db(), t, zen!.id, 'user', '8', 'kim@birch.example', 'Kim L.', '2026-10-01T00:00:00Z');
    await personRecord(db(), t, hub.installationId, 'contact', '22', 'pat@birch.example', 'Pat Other', '2026-10-01T00:00:00Z');
    const ingest = (installationId: string, activities: ReturnType<typeof activity>[]) =>
      db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: t, installationId, sourceRecords: [], activities, keyring: testKeyring }));
    await ingest(hub.installationId, [activity('21', 'contact', 'l1', 'Kim signed in from Berlin', '203.0.113.7'), activity('22', 'contact', 'l2', 'Pat signed in from Oslo', '198.51.100.9')]);
    await ingest(zen!.id, [activity('8', 'user', 'l3', 'Kim opened the help centre', '203.0.113.8')]);
    await resolveTenant(db().sql, t);
    // Sealed before any erasure: the clear columns and the chain hold no personal text at all.
    const before = await everything(db(), t);
    expect(before).not.toContain('Kim signed in from Berlin');
    expect(before).not.toContain('203.0.113.7');
    expect(before).toContain('kim@birch.example'); // the synced record itself, until erased

    const erased = await eraseSubject(db().sql, t, `${hub.installationId}/contact/21`, 'dpo@acme.example');
    expect(erased).toMatchObject({ records: [`${hub.installationId}/contact/21`, `${zen!.id}/user/8`].sort(), keysDestroyed: 2, unsealedActivities: 0 });

    const after = await everything(db(), t);
    for (const gone of ['kim@birch.example', 'Kim Lindqvist', 'Kim L.']) expect(after).not.toContain(gone);
    expect(after).toContain('pat@birch.example');
    // The chain is untouched, byte for byte, and the erasure is its newest entry.
    expect(await verifyChain((s, p) => db().sql.query(s, p), t)).toMatchObject({ ok: true });
    const [entry] = await listEntries((s, p) => db().sql.query(s, p), t, { kind: 'privacy.erased' });
    expect(entry!.body).toEqual({ subject: `${hub.installationId}/contact/21`, records: erased.records, keysDestroyed: 2, unsealedActivities: 0, by: 'dpo@acme.example' });

    // The sealed fields on the ledger no longer open; Pat's still do.
    const activities = (await listEntries((s, p) => db().sql.query(s, p), t, { kind: 'activity' })).map((e) => e.body as { installationId: string; source: { objectType: string; externalId: string }; discriminator: string; personal: string; attributes: Record<string, unknown> });
    const opened = await openActivityFields((s, p) => db().sql.query(s, p), testKeyring, t, activities.map((a) => ({
      installationId: a.installationId, sourceObjectType: a.source.objectType, sourceExternalId: a.source.externalId, discriminator: a.discriminator, personal: a.personal, summary: null, actor: null, attributes: a.attributes,
    })));
    expect(opened.map((o) => o.summary).sort()).toEqual(['Pat signed in from Oslo', '[erased]', '[erased]']);
    expect(opened.find((o) => o.summary === '[erased]')!.attributes).toEqual({ country: 'DE' });

    // A data-subject export afterwards has nothing personal left to give.
    const exported = await exportSubject(db().sql, testKeyring, t, `${zen!.id}/user/8`, 'dpo@acme.example');
    expect(exported.activities.map((a) => a.summary)).toEqual(['[erased]', '[erased]']);
    expect(JSON.stringify(exported)).not.toContain('kim@birch.example');

    // The platform sends Kim again, with a new login: nothing personal is stored.
    await personRecord(db(), t, hub.installationId, 'contact', '21', 'kim@birch.example', 'Kim Lindqvist', '2026-11-05T00:00:00Z');
    await ingest(hub.installationId, [activity('21', 'contact', 'l9', 'Kim signed in again', '203.0.113.9')]);
    const [record] = await db().sql.query<{ payload: unknown; canonical: unknown; content_hash: string }>(`select payload, canonical, content_hash from source_record where tenant_id = $1 and external_id = '21'`, [t]);
    expect(record).toEqual({ payload: { erased: true }, canonical: null, content_hash: contentHash({ erased: true }) });
    const [again] = await db().sql.query<{ personal: string | null; summary: string | null; attributes: unknown }>(`select personal, summary, attributes from activity where tenant_id = $1 and source_external_id = 'l9'`, [t]);
    expect(again).toEqual({ personal: null, summary: null, attributes: { country: 'DE' } });
    expect(await everything(db(), t)).not.toContain('Kim signed in again');
    expect(await verifyChain((s, p) => db().sql.query(s, p), t)).toMatchObject({ ok: true });
  });

  it('removes every review item naming the person, also several of one kind and rule', async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const t = hub.tenantId;
    await personRecord(db(), t, hub.installationId, 'contact', '31', 'lee@birch.example', 'Lee', '2026-10-01T00:00:00Z');
    const me = `${hub.installationId}/contact/31`;
    for (const [value, other] of [['+4930111', '32'], ['+4930222', '33']] as const) {
      await db().sql.query(`insert into identity_review (tenant_id, kind, rule, value, records, reason) values ($1, 'person', 'phone', $2, $3, 'same installation')`, [
        t,
        value,
        JSON.stringify([me, `${hub.installationId}/contact/${other}`]),
      ]);
    }
    await db().sql.query(`insert into identity_review (tenant_id, kind, rule, value, records, reason) values ($1, 'person', 'phone', '+4930999', $2, 'same installation')`, [
      t,
      JSON.stringify([`${hub.installationId}/contact/40`, `${hub.installationId}/contact/41`]),
    ]);
    await eraseSubject(db().sql, t, me, 'dpo@acme.example');
    expect(await db().sql.query(`select value from identity_review where tenant_id = $1`, [t])).toEqual([{ value: '+4930999' }]);
  });

  it('refuses a record that was never synced, and changes nothing', async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    await expect(eraseSubject(db().sql, hub.tenantId, `${hub.installationId}/contact/404`, 'dpo')).rejects.toThrow(/no synced record/);
    await expect(eraseSubject(db().sql, hub.tenantId, 'contact-404', 'dpo')).rejects.toThrow(/<installationId>\/<objectType>\/<externalId>/);
    expect(await listEntries((s, p) => db().sql.query(s, p), hub.tenantId, { kind: 'privacy.erased' })).toEqual([]);
  });
});
