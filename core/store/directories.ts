/**
 * Tenants and installations through the ORM, every query scoped by tenant. These back the console
 * and the API (`core/server` declares the shapes it needs).
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { LedgerlineError } from '../errors/index.ts';
import { sqlSessionOf } from './database.ts';
import { InstallationEntity, TenantEntity, type Installation, type InstallationStatus, type Tenant } from './entities.ts';

export interface TenantView {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly createdAt: Date;
}

export interface InstallationView {
  readonly id: string;
  readonly tenantId: string;
  readonly platform: string;
  readonly platformAccountId: string;
  readonly accountName: string | null;
  readonly apiBaseUrl: string;
  readonly status: InstallationStatus;
  readonly installedAt: Date;
  readonly uninstalledAt: Date | null;
  readonly scopes: readonly string[];
  readonly sync: { readonly status: string | null; readonly lastSyncedAt: Date | null };
}

const tenantView = (t: Tenant): TenantView => ({ id: t.id, slug: t.slug, name: t.name, createdAt: t.createdAt });

export function createTenantDirectory(fork: () => EntityManager) {
  return {
    async list(): Promise<TenantView[]> {
      const rows = await fork().find(TenantEntity, {}, { orderBy: { slug: 'asc' } });
      return rows.map(tenantView);
    },
    async findBySlug(slug: string): Promise<TenantView | null> {
      const row = await fork().findOne(TenantEntity, { slug });
      return row ? tenantView(row) : null;
    },
    async create(input: { slug: string; name: string }): Promise<TenantView> {
      const em = fork();
      const tenant = em.create(TenantEntity, { slug: input.slug, name: input.name });
      try {
        await em.flush();
      } catch (error) {
        if (error instanceof UniqueConstraintViolationException) {
          throw new LedgerlineError('LL_CONFLICT', `a tenant with slug '${input.slug}' already exists`, { details: { field: 'slug' } });
        }
        throw error;
      }
      return tenantView(tenant);
    },
    /** The tenant with this slug, created when missing (the embedded default's first start). */
    async ensure(input: { slug: string; name: string }): Promise<TenantView> {
      const em = fork();
      await em.getConnection().execute(`insert into tenant (slug, name) values (?, ?) on conflict (slug) do nothing`, [input.slug, input.name]);
      const row = await em.findOneOrFail(TenantEntity, { slug: input.slug });
      return tenantView(row);
    },
  };
}

interface SyncRollup {
  installation_id: string;
  status: string | null;
  last_synced_at: string | null;
}

export function createInstallationDirectory(fork: () => EntityManager) {
  async function rollups(em: EntityManager, ids: readonly string[]): Promise<Map<string, SyncRollup>> {
    if (ids.length === 0) return new Map();
    // The worst status across an installation's streams, and its oldest successful sync.
    const rows = await sqlSessionOf(em).query<SyncRollup>(
      `select installation_id,
              (array_agg(status order by case status when 'dead' then 0 when 'failed' then 1 when 'running' then 2
                                                      when 'waiting' then 3 else 4 end))[1] as status,
              min(last_success_at) as last_synced_at
         from sync_state where installation_id = any($1::uuid[]) group by installation_id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.installation_id, r]));
  }

  function view(row: Installation, rollup: SyncRollup | undefined): InstallationView {
    return {
      id: row.id,
      tenantId: row.tenant.id,
      platform: row.platform,
      platformAccountId: row.platformAccountId,
      accountName: row.displayName,
      apiBaseUrl: row.apiBaseUrl,
      status: row.status,
      installedAt: row.installedAt,
      uninstalledAt: row.uninstalledAt ?? null,
      scopes: row.scopes,
      sync: { status: rollup?.status ?? null, lastSyncedAt: rollup?.last_synced_at ? new Date(rollup.last_synced_at) : null },
    };
  }

  return {
    async listForTenant(tenantId: string): Promise<InstallationView[]> {
      const em = fork();
      const rows = await em.find(InstallationEntity, { tenant: tenantId }, { orderBy: { installedAt: 'asc' } });
      const sync = await rollups(em, rows.map((r) => r.id));
      return rows.map((r) => view(r, sync.get(r.id)));
    },
    async find(tenantId: string, installationId: string): Promise<InstallationView | null> {
      const em = fork();
      const row = await em.findOne(InstallationEntity, { id: installationId, tenant: tenantId });
      if (!row) return null;
      const sync = await rollups(em, [row.id]);
      return view(row, sync.get(row.id));
    },
    async markUninstalled(tenantId: string, installationId: string): Promise<InstallationView> {
      const em = fork();
      const row = await em.findOne(InstallationEntity, { id: installationId, tenant: tenantId });
      if (!row) throw new LedgerlineError('LL_NOT_FOUND', 'no such installation in this tenant');
      if (row.status !== 'uninstalled') {
        row.status = 'uninstalled';
        row.uninstalledAt = new Date();
        // Uninstalling forgets the credentials: nothing can sync for it any more.
        row.sealedTokens = null;
        row.tokenExpiresAt = null;
        await em.flush();
      }
      const sync = await rollups(em, [row.id]);
      return view(row, sync.get(row.id));
    },
  };
}
