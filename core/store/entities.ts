/**
 * The store's entities, as data (MikroORM `defineEntity` + `p`; no decorators). Hot paths (bulk
 * ingest, sync state) use set-based SQL on the same tables; these serve everything else.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const installationStatuses = ['active', 'needs_reauth', 'uninstalled'] as const;
export type InstallationStatus = (typeof installationStatuses)[number];

const createdNow = () => new Date();

export const TenantEntity = defineEntity({
  name: 'Tenant',
  tableName: 'tenant',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    slug: p.text().unique('tenant_slug_unique'),
    name: p.text(),
    createdAt: p.datetime().columnType('timestamptz').onCreate(createdNow).defaultRaw('now()'),
  },
});
export type Tenant = InferEntity<typeof TenantEntity>;

export const InstallationEntity = defineEntity({
  name: 'Installation',
  tableName: 'installation',
  uniques: [{ name: 'installation_tenant_account_unique', properties: ['tenant', 'platform', 'platformAccountId'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    tenant: p.manyToOne(TenantEntity).fieldName('tenant_id').deleteRule('cascade'),
    /** The plugin id from plugin.manifest.json. */
    platform: p.text(),
    /** HubSpot portal id, Salesforce org id, Zendesk subdomain, Shopify shop domain. */
    platformAccountId: p.text(),
    displayName: p.text(),
    apiBaseUrl: p.text(),
    status: p.enum(installationStatuses).columnType('text').default('active'),
    scopes: p.array().columnType('text[]').defaultRaw("'{}'"),
    /** The token set, sealed with AES-256-GCM (see token-vault.ts); never stored in the clear. */
    sealedTokens: p.text().nullable(),
    tokenExpiresAt: p.datetime().columnType('timestamptz').nullable(),
    installParams: p.json<Record<string, unknown>>().columnType('jsonb').defaultRaw("'{}'"),
    installedAt: p.datetime().columnType('timestamptz').onCreate(createdNow).defaultRaw('now()'),
    updatedAt: p.datetime().columnType('timestamptz').onCreate(createdNow).onUpdate(createdNow).defaultRaw('now()'),
    uninstalledAt: p.datetime().columnType('timestamptz').nullable(),
  },
});
export type Installation = InferEntity<typeof InstallationEntity>;

export const SourceRecordEntity = defineEntity({
  name: 'SourceRecord',
  tableName: 'source_record',
  uniques: [{ name: 'source_record_key', properties: ['installationId', 'objectType', 'externalId'] }],
  indexes: [{ name: 'source_record_changed', properties: ['tenantId', 'lastChangedAt'] }],
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    tenantId: p.uuid(),
    installationId: p.uuid(),
    objectType: p.text(),
    externalId: p.text(),
    /** The platform's own modification time: an older payload never overwrites a newer one. */
    platformUpdatedAt: p.datetime().columnType('timestamptz').nullable(),
    /** sha-256 of the payload's canonical JSON: an unchanged payload is not rewritten. */
    contentHash: p.text(),
    payload: p.json<Record<string, unknown>>().columnType('jsonb'),
    /** The canonical records mapped from this payload. */
    canonical: p.json<Record<string, unknown>>().columnType('jsonb').nullable(),
    firstSeenAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
    lastChangedAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
    deletedAt: p.datetime().columnType('timestamptz').nullable(),
  },
});
export type SourceRecordRow = InferEntity<typeof SourceRecordEntity>;

export const ActivityEntity = defineEntity({
  name: 'Activity',
  tableName: 'activity',
  uniques: [{ name: 'activity_source_key', properties: ['installationId', 'sourceObjectType', 'sourceExternalId', 'discriminator'] }],
  indexes: [
    {
      name: 'activity_subject_timeline',
      columns: [{ name: 'tenant_id' }, { name: 'subject_object_type' }, { name: 'subject_external_id' }, { name: 'occurred_at', sort: 'desc' }],
    },
    {
      name: 'activity_driver_timeline',
      properties: ['tenantId', 'driverObjectType', 'driverExternalId', 'occurredAt'],
      where: 'driver_external_id is not null',
    },
    { name: 'activity_tenant_time', properties: ['tenantId', 'occurredAt'] },
    { name: 'activity_upstream_merge', properties: ['tenantId', 'recordedAt'], where: "kind = 'profile_change' and category = 'merged'" },
  ],
  properties: {
    id: p.bigint('string').primary().autoincrement(),
    tenantId: p.uuid(),
    installationId: p.uuid(),
    kind: p.text(),
    category: p.text(),
    occurredAt: p.datetime().columnType('timestamptz'),
    subjectKind: p.text(),
    subjectObjectType: p.text(),
    subjectExternalId: p.text(),
    driverType: p.text().nullable(),
    driverObjectType: p.text().nullable(),
    driverExternalId: p.text().nullable(),
    sourceObjectType: p.text(),
    sourceExternalId: p.text(),
    discriminator: p.text(),
    amount: p.decimal('string').columnType('numeric(20,4)').nullable(),
    /** ISO 4217. */
    currency: p.string().columnType('char(3)').nullable(),
    /** NULL on sealed rows: the summary lives only inside `personal`. */
    summary: p.text().nullable(),
    actor: p.text().nullable(),
    attributes: p.json<Record<string, unknown>>().columnType('jsonb').defaultRaw("'{}'"),
    /** Sealed personal fields (core/privacy); NULL before sealing existed or for an erased subject. */
    personal: p.text().nullable(),
    recordedAt: p.datetime().columnType('timestamptz').defaultRaw('now()'),
  },
});
export type ActivityRow = InferEntity<typeof ActivityEntity>;

/** A resolved person profile; identity resolution fills and merges these. */
export const PersonEntity = defineEntity({
  name: 'Person',
  tableName: 'person',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    tenant: p.manyToOne(TenantEntity).fieldName('tenant_id').deleteRule('cascade'),
    displayName: p.text().nullable(),
    primaryEmail: p.text().nullable(),
    createdAt: p.datetime().columnType('timestamptz').onCreate(createdNow).defaultRaw('now()'),
    updatedAt: p.datetime().columnType('timestamptz').onCreate(createdNow).onUpdate(createdNow).defaultRaw('now()'),
  },
});
export type Person = InferEntity<typeof PersonEntity>;

/** A resolved account (company, organization) profile. */
export const AccountEntity = defineEntity({
  name: 'Account',
  tableName: 'account',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    tenant: p.manyToOne(TenantEntity).fieldName('tenant_id').deleteRule('cascade'),
    name: p.text().nullable(),
    domain: p.text().nullable(),
    createdAt: p.datetime().columnType('timestamptz').onCreate(createdNow).defaultRaw('now()'),
    updatedAt: p.datetime().columnType('timestamptz').onCreate(createdNow).onUpdate(createdNow).defaultRaw('now()'),
  },
});
export type Account = InferEntity<typeof AccountEntity>;

export const entities = [TenantEntity, InstallationEntity, SourceRecordEntity, ActivityEntity, PersonEntity, AccountEntity];
