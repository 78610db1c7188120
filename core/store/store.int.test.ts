import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { ActivityRecord, type ActivityRecordInput } from '../model/index.ts';
import { describeOnTestDatabases, seedInstallation, testKeyring } from '../../test/support/database.ts';
import {
  AccountEntity,
  InstallationEntity,
  PersonEntity,
  TenantEntity,
  createInstallationDirectory,
  createRecordQueries,
  createTenantDirectory,
  ingestBatch,
  openTokens,
  sealTokens,
} from './index.ts';

const activity = (overrides: Partial<ActivityRecordInput>): ActivityRecord =>
  ActivityRecord.parse({
    kind: 'interaction',
    category: 'ticket_comment',
    occurredAt: '2026-10-01T10:00:00Z',
    subject: { kind: 'person', objectType: 'user', externalId: 'u1' },
    source: { objectType: 'ticket', externalId: 't1' },
    summary: 'a comment',
    ...overrides,
  });

describeOnTestDatabases('store', (db) => {
  it('applies every migration, and the schema then equals the entities', async () => {
    expect(await db().pendingMigrations()).toEqual([]);
    const diff = await db().orm.schema.getUpdateSchemaSQL({ wrap: false, safe: true, dropTables: false });
    expect(diff.trim()).toBe('');
  });

  it('round-trips a tenant, an installation with sealed tokens, and profiles through the ORM', async () => {
    const em = db().fork();
    const tenant = em.create(TenantEntity, { slug: `acme-${randomBytes(3).toString('hex')}`, name: 'Acme' });
    const installation = em.create(InstallationEntity, {
      tenant,
      platform: 'hubspot',
      platformAccountId: '12345',
      displayName: 'Acme portal',
      apiBaseUrl: 'https://api.hubapi.com',
      scopes: ['crm.objects.contacts.read', 'tickets'],
      installParams: { portalId: 12345 },
    });
    em.create(PersonEntity, { tenant, displayName: 'Ada Lovelace', primaryEmail: 'ada@example.com' });
    em.create(AccountEntity, { tenant, name: 'Acme', domain: 'acme.example' });
    await em.flush();
    const key = randomBytes(32);
    const owner = { tenantId: tenant.id, installationId: installation.id };
    installation.sealedTokens = sealTokens(key, owner, {
      accessToken: 'at',
      refreshToken: 'refresh-token-value',
      expiresAt: new Date('2026-11-22T10:00:00Z'),
      scopes: ['crm.objects.contacts.read'],
      extra: {},
    });
    await em.flush();

    const fresh = db().fork();
    const loaded = await fresh.findOneOrFail(InstallationEntity, { id: installation.id, tenant: tenant.id }, { populate: ['tenant'] });
    expect(loaded.tenant.slug).toBe(tenant.slug);
    expect(loaded.scopes).toEqual(['crm.objects.contacts.read', 'tickets']);
    expect(loaded.installParams).toEqual({ portalId: 12345 });
    expect(loaded.status).toBe('active');
    expect(loaded.installedAt).toBeInstanceOf(Date);
    expect(loaded.sealedTokens).not.toContain('refresh-token-value');
    expect(openTokens(key, owner, loaded.sealedTokens!).refreshToken).toBe('refresh-token-value');
    expect(await fresh.find(PersonEntity, { tenant: tenant.id }, { fields: ['displayName', 'primaryEmail'] })).toMatchObject([
      { displayName: 'Ada Lovelace', primaryEmail: 'ada@example.com' },
    ]);
    expect(await fresh.count(AccountEntity, { tenant: tenant.id, domain: 'acme.example' })).toBe(1);
  });

  it('scopes tenants and installations: another tenant cannot see or uninstall them', async () => {
    const fork = () => db().fork();
    const tenants = createTenantDirectory(fork);
    const installations = createInstallationDirectory(fork);
    const a = await seedInstallation(db());
    const b = await seedInstallation(db());
    expect((await installations.listForTenant(a.tenantId)).map((i) => i.id)).toEqual([a.installationId]);
    expect(await installations.find(b.tenantId, a.installationId)).toBeNull();
    await expect(installations.markUninstalled(b.tenantId, a.installationId)).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
    const uninstalled = await installations.markUninstalled(a.tenantId, a.installationId);
    expect(uninstalled.status).toBe('uninstalled');
    await expect(tenants.create({ slug: (await tenants.list())[0]!.slug, name: 'dup' })).rejects.toMatchObject({ code: 'LL_CONFLICT' });
  });

  it("reads records and timelines per tenant: tenant B never sees tenant A's rows", async () => {
    const queries = createRecordQueries(() => db().fork(), testKeyring, db().sql);
    const a = await seedInstallation(db());
    const b = await seedInstallation(db());
    const ticket = { type: 'ticket' as const, objectType: 'ticket', externalId: 't1' };
    await ingestBatch((text, params) => db().execute(text, params), {
      ...a,
      keyring: testKeyring,
      sourceRecords: [{ objectType: 'ticket', externalId: 't1', updatedAt: new Date('2026-10-03T00:00:00Z'), payload: { id: 't1' }, deletedAt: null }],
      activities: [
        activity({ occurredAt: '2026-10-01T10:00:00Z', discriminator: 'created', driver: ticket, summary: 'opened' }),
        activity({ occurredAt: '2026-10-02T10:00:00Z', discriminator: 'comment:1', driver: ticket, amount: { value: '5', currency: 'USD' } }),
        activity({ occurredAt: '2026-10-03T10:00:00Z', discriminator: 'solved', summary: 'solved' }),
      ],
    });
    const subject = { objectType: 'user', externalId: 'u1' };

    const timeline = await queries.subjectTimeline(a.tenantId, subject);
    expect(timeline.map((x) => x.discriminator)).toEqual(['solved', 'comment:1', 'created']);
    expect(timeline[1]).toMatchObject({ installationId: a.installationId, amount: { value: '5.0000', currency: 'USD' }, driver: ticket });
    expect((await queries.subjectTimeline(a.tenantId, subject, { before: new Date('2026-10-03T00:00:00Z'), limit: 1 })).map((x) => x.discriminator)).toEqual([
      'comment:1',
    ]);
    expect((await queries.driverTimeline(a.tenantId, ticket)).map((x) => x.discriminator)).toEqual(['created', 'comment:1']);
    expect((await queries.sourceRecord(a.tenantId, a.installationId, { objectType: 'ticket', externalId: 't1' }))?.payload).toEqual({ id: 't1' });

    expect(await queries.subjectTimeline(b.tenantId, subject)).toEqual([]);
    expect(await queries.driverTimeline(b.tenantId, ticket)).toEqual([]);
    expect(await queries.sourceRecord(b.tenantId, a.installationId, { objectType: 'ticket', externalId: 't1' })).toBeNull();
  });
});
