/**
 * Identity resolution over what syncs stored, in the database: profiles across installations,
 * merges, splits and review items on the ledger, nothing logged again when nothing changed, and
 * the explanation an admin reads.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import { listEntries } from '../ledger/ledger.ts';
import { verifyChain } from '../ledger/verify.ts';
import type { Database } from '../store/index.ts';
import { explainRecord, overrideIdentity, profileId, resolveTenant, tenantsToResolve } from './identity-store.ts';
import { exportSubject } from './subject-export.ts';
import { ingestBatch } from '../store/index.ts';

async function person(db: Database, tenantId: string, installationId: string, objectType: string, id: string, fields: Record<string, unknown>): Promise<void> {
  await db.sql.query(
    `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical) values ($1, $2, $3, $4, 'h', '{}', $5)
     on conflict (installation_id, object_type, external_id) do update set canonical = excluded.canonical, last_changed_at = now()`,
    [tenantId, installationId, objectType, id, JSON.stringify({ persons: [{ source: { objectType, externalId: id }, mergedFrom: [], ...fields }] })],
  );
}

describeOnTestDatabases('identity resolution in the store', (db) => {
  it('resolves a person across two installations, records the merge with its evidence once, and explains it', async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', 'acme', 'Acme support', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    await person(db(), t, hub.installationId, 'contact', '1001', { email: 'maya@birch.example', displayName: 'Maya Ortiz', phone: '+4930123456' });
    await person(db(), t, zen!.id, 'user', '77', { email: 'MAYA@birch.example', emailVerified: true });
    await person(db(), t, hub.installationId, 'contact', '1002', { email: 'pat@birch.example', displayName: 'Pat' });
    await person(db(), t, hub.installationId, 'contact', '1003', { phone: '+4930123456', displayName: 'Maya (old)' });
    expect(await tenantsToResolve(db().sql)).toContain(t);

    expect(await resolveTenant(db().sql, t)).toEqual({ mode: 'full', changed: 4, resolved: 4, records: 4, profiles: 3, merged: 1, split: 0, reviews: 1 });
    expect(await tenantsToResolve(db().sql)).not.toContain(t);
    const mayaKeys = [`${hub.installationId}/contact/1001`, `${zen!.id}/user/77`];
    // The profile is named after its smallest record key (installation ids are random here).
    const [anchor, other] = [...mayaKeys].sort() as [string, string];
    const members = await db().sql.query<{ key: string; profile_id: string; rule: string | null }>(
      `select installation_id || '/' || object_type || '/' || external_id as key, profile_id, rule from identity_member where tenant_id = $1 order by 1`,
      [t],
    );
    const maya = profileId(t, anchor);
    expect(members.filter((m) => m.profile_id === maya).map((m) => [m.key, m.rule])).toEqual([
      [anchor, null],
      [other, 'verified-email'],
    ]);
    const [profile] = await db().sql.query<{ display_name: string; primary_email: string }>(`select display_name, primary_email from person where id = $1 and tenant_id = $2`, [maya, t]);
    expect(profile).toEqual({ display_name: 'Maya Ortiz', primary_email: 'maya@birch.example' });

    const identityEntries = (await listEntries((s, p) => db().sql.query(s, p), t, { limit: 100 })).filter((e) => e.kind.startsWith('identity.'));
    expect(identityEntries.map((e) => e.kind)).toEqual(['identity.merged', 'identity.review_opened']);
    expect(identityEntries[0]!.body).toEqual({
      profileId: maya,
      kind: 'person',
      anchor,
      members: [
        { record: anchor, rule: 'anchor' },
        { record: other, rule: 'verified-email', with: anchor },
      ],
    });
    // The phone would join contact 1003 to contact 1001: HubSpot keeps them apart, so it is a review item.
    expect(identityEntries[1]!.body).toMatchObject({ rule: 'phone', records: expect.arrayContaining([`${hub.installationId}/contact/1001`, `${hub.installationId}/contact/1003`]) });
    // Identifier values stay out of the chain (an erasure could not remove them from it).
    expect(JSON.stringify(identityEntries.map((e) => e.body))).not.toMatch(/maya@birch\.example|\+4930123456/);

    // Nothing changed: nothing new on the ledger.
    await resolveTenant(db().sql, t);
    expect((await listEntries((s, p) => db().sql.query(s, p), t, { limit: 100 })).filter((e) => e.kind.startsWith('identity.'))).toHaveLength(2);

    const [explained] = await explainRecord(db().sql, t, 'user', '77');
    expect(explained).toMatchObject({ profileId: maya, kind: 'person', anchor, displayName: 'Maya Ortiz' });
    expect(explained!.members.map((m) => [m.key, m.evidence?.rule ?? 'anchor'])).toEqual([
      [anchor, 'anchor'],
      [other, 'verified-email'],
    ]);
    expect(explained!.reviews).toEqual([expect.objectContaining({ rule: 'phone', value: '+4930123456' })]);
  });

  it("honours an admin's merge and split from then on, each recorded on the ledger with who decided and why", async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const t = hub.tenantId;
    await person(db(), t, hub.installationId, 'contact', '5', { email: 'sam@birch.example' });
    await person(db(), t, hub.installationId, 'contact', '6', { email: 'samuel@home.example' });
    const [a, b] = [`${hub.installationId}/contact/5`, `${hub.installationId}/contact/6`];
    expect(await overrideIdentity(db().sql, t, { action: 'merge', records: [b, a], by: 'ops@acme.example', reason: 'same customer, two addresses' })).toMatchObject({ profiles: 1, merged: 1 });
    // A later resolution keeps it.
    expect(await resolveTenant(db().sql, t)).toMatchObject({ profiles: 1 });
    const [explained] = await explainRecord(db().sql, t, 'contact', '6');
    expect(explained!.members.map((m) => m.evidence?.rule ?? 'anchor')).toEqual(['anchor', 'manual-merge']);
    expect(await overrideIdentity(db().sql, t, { action: 'split', records: [a, b], by: 'lead@acme.example', reason: 'two people after all' })).toMatchObject({ profiles: 2, split: 1 });
    const entries = (await listEntries((s, p) => db().sql.query(s, p), t, { limit: 100 })).map((e) => [e.kind, e.body.by ?? null]);
    expect(entries).toEqual([
      ['identity.manual_merge', 'ops@acme.example'],
      ['identity.merged', null],
      ['identity.manual_split', 'lead@acme.example'],
      ['identity.split', null],
    ]);
    await expect(overrideIdentity(db().sql, t, { action: 'merge', records: [a, `${hub.installationId}/contact/404`], by: 'x' })).rejects.toThrow(/no synced record/);
    // A person and an account are never one profile: refused, and nothing is recorded.
    await db().sql.query(
      `insert into source_record (tenant_id, installation_id, object_type, external_id, content_hash, payload, canonical) values ($1, $2, 'company', '9', 'h', '{}', $3)`,
      [t, hub.installationId, JSON.stringify({ accounts: [{ source: { objectType: 'company', externalId: '9' }, name: 'Birch', mergedFrom: [] }] })],
    );
    await expect(overrideIdentity(db().sql, t, { action: 'merge', records: [a, `${hub.installationId}/company/9`], by: 'x' })).rejects.toMatchObject({
      code: 'LL_INVALID_INPUT',
      message: expect.stringContaining('a person and an account cannot be one profile'),
    });
    expect((await listEntries((s, p) => db().sql.query(s, p), t, { limit: 100 })).map((e) => e.kind)).toHaveLength(4);
  });

  it('exports everything held about a person across installations, and records the export', async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const [zen] = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'zendesk', 'acme2', 'Acme support', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    await person(db(), t, hub.installationId, 'contact', '21', { email: 'kim@birch.example', displayName: 'Kim' });
    await person(db(), t, zen!.id, 'user', '8', { email: 'kim@birch.example' });
    await person(db(), t, hub.installationId, 'contact', '22', { email: 'other@birch.example' });
    const activity = (subject: string, objectType: string, key: string) => ({
      kind: 'interaction' as const, category: 'email', occurredAt: new Date('2026-11-01T10:00:00Z'), subject: { kind: 'person' as const, objectType, externalId: subject },
      driver: null, source: { objectType: 'email', externalId: key }, discriminator: 'main', amount: null, summary: `Email ${key}`, actor: null, attributes: {},
    });
    await db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: t, installationId: hub.installationId, sourceRecords: [], activities: [activity('21', 'contact', 'e1'), activity('22', 'contact', 'e2')], keyring: testKeyring }));
    await db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: t, installationId: zen!.id, sourceRecords: [], activities: [activity('8', 'user', 'z1')], keyring: testKeyring }));
    await resolveTenant(db().sql, t);

    const exported = await exportSubject(db().sql, testKeyring, t, `${hub.installationId}/contact/21`, 'dpo@acme.example');
    expect(exported.records.map((r) => r.external_id).sort()).toEqual(['21', '8']);
    expect(exported.activities.map((a) => a.summary).sort()).toEqual(['Email e1', 'Email z1']);
    expect(exported.ledger.filter((e) => e.kind === 'activity')).toHaveLength(2);
    expect(JSON.stringify(exported)).not.toContain('other@birch.example');
    const [recorded] = await listEntries((s, p) => db().sql.query(s, p), t, { kind: 'privacy.exported' });
    expect(recorded!.body).toMatchObject({ subject: `${hub.installationId}/contact/21`, by: 'dpo@acme.example' });
    await expect(exportSubject(db().sql, testKeyring, t, 'nonsense', 'x')).rejects.toThrow(/<installationId>\/<objectType>\/<externalId>/);
  });

  it('records a split when a changed record no longer matches, and the ledger still verifies', async () => {
    const hub = await seedInstallation(db(), { platform: 'hubspot' });
    const shop = await db().sql.query<{ id: string }>(
      `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url) values ($1, 'shopify', 'acme.myshopify.com', 'Acme shop', 'http://127.0.0.1:9') returning id`,
      [hub.tenantId],
    );
    const t = hub.tenantId;
    await person(db(), t, hub.installationId, 'contact', '1', { email: 'lee@birch.example' });
    await person(db(), t, shop[0]!.id, 'customer', '9', { email: 'lee@birch.example' });
    await resolveTenant(db().sql, t);
    await person(db(), t, shop[0]!.id, 'customer', '9', { email: 'lee.other@birch.example' });
    expect(await resolveTenant(db().sql, t)).toMatchObject({ profiles: 2, merged: 0, split: 1 });
    const kinds = (await listEntries((s, p) => db().sql.query(s, p), t, { limit: 100 })).map((e) => e.kind);
    expect(kinds).toEqual(['identity.merged', 'identity.split']);
    expect((await verifyChain((s, p) => db().sql.query(s, p), t)).ok).toBe(true);
  });

  it('joins a user a platform merged into another as an event (a Zendesk user merge) at the next incremental run, as a full run does', async () => {
    const { tenantId: t, installationId: zen } = await seedInstallation(db(), { platform: 'zendesk' });
    await person(db(), t, zen, 'user', '41', { email: 'sam@work.example', displayName: 'Sam' });
    await person(db(), t, zen, 'user', '42', { email: 'sam.private@mail.example', displayName: 'Sam (private)' });
    expect(await resolveTenant(db().sql, t)).toMatchObject({ mode: 'full', profiles: 2, merged: 0 });
    const profileOf = async (id: string) =>
      (await db().sql.query<{ profile_id: string }>(`select profile_id from identity_member where tenant_id = $1 and installation_id = $2 and object_type = 'user' and external_id = $3`, [t, zen, id]))[0]?.profile_id;
    expect(await profileOf('41')).not.toBe(await profileOf('42'));

    // Zendesk moved 42's tickets to 41: the connector records the merge on the merged user; neither record changes.
    const merge = {
      kind: 'profile_change' as const,
      category: 'merged',
      occurredAt: new Date('2026-11-20T10:00:00Z'),
      subject: { kind: 'person' as const, objectType: 'user', externalId: '42' },
      driver: null,
      source: { objectType: 'user', externalId: '42' },
      discriminator: 'merged-into:41',
      amount: null,
      summary: 'Zendesk user 42 was merged into user 41',
      actor: null,
      attributes: { mergedInto: '41' },
    };
    await db().sql.transaction((tx) => ingestBatch((s, p) => tx.query(s, p), { tenantId: t, installationId: zen, sourceRecords: [], activities: [merge], keyring: testKeyring }));
    // (A change in a tenant this small reaches more than half of it: allow an incremental run anyway.)
    const incremental = { maxComponentShare: 1 };
    expect(await resolveTenant(db().sql, t, incremental)).toMatchObject({ mode: 'incremental', profiles: 1, merged: 1 });
    expect(await profileOf('42')).toBe(await profileOf('41'));
    const [evidence] = await db().sql.query<{ rule: string | null }>(`select rule from identity_member where tenant_id = $1 and installation_id = $2 and external_id = '42'`, [t, zen]);
    expect(evidence).toEqual({ rule: 'upstream-merge' });
    // Another change to the merged user keeps it with the survivor, and a full run agrees.
    await person(db(), t, zen, 'user', '42', { email: 'sam.other@mail.example', displayName: 'Sam (private)' });
    expect(await resolveTenant(db().sql, t, incremental)).toMatchObject({ mode: 'incremental', profiles: 1 });
    expect(await resolveTenant(db().sql, t, { mode: 'full' })).toMatchObject({ mode: 'full', profiles: 1, merged: 0, split: 0 });
    expect(await profileOf('42')).toBe(await profileOf('41'));
  });
});
