/**
 * Hand-written in-memory versions of the server's directories and readiness probe, for tests and
 * for trying the console without a database. They keep the same contract as the store-backed
 * ones: tenant scoping, LL_CONFLICT on a duplicate slug, idempotent uninstall.
 */
import { randomUUID } from 'node:crypto';
import { LedgerlineError } from '../errors/index.ts';
import type {
  InstallationDirectory,
  InstallationSummary,
  ReadinessProbe,
  TenantDirectory,
  TenantSummary,
} from './server-deps.ts';

export class InMemoryTenants implements TenantDirectory {
  readonly #tenants = new Map<string, TenantSummary>();

  list(): Promise<readonly TenantSummary[]> {
    return Promise.resolve([...this.#tenants.values()].sort((a, b) => a.slug.localeCompare(b.slug)));
  }

  findBySlug(slug: string): Promise<TenantSummary | null> {
    return Promise.resolve(this.#tenants.get(slug) ?? null);
  }

  create(input: { slug: string; name: string }): Promise<TenantSummary> {
    if (this.#tenants.has(input.slug)) {
      return Promise.reject(new LedgerlineError('LL_CONFLICT', `Tenant ${input.slug} already exists.`, { details: { field: 'slug' } }));
    }
    const tenant = { id: randomUUID(), slug: input.slug, name: input.name, createdAt: new Date() };
    this.#tenants.set(tenant.slug, tenant);
    return Promise.resolve(tenant);
  }
}

export type NewInstallation = Omit<InstallationSummary, 'id' | 'status' | 'uninstalledAt' | 'sync' | 'installedAt'> &
  Partial<Pick<InstallationSummary, 'id' | 'installedAt' | 'sync'>>;

export class InMemoryInstallations implements InstallationDirectory {
  readonly #installations = new Map<string, InstallationSummary>();

  add(input: NewInstallation): InstallationSummary {
    const installation: InstallationSummary = {
      id: input.id ?? randomUUID(),
      tenantId: input.tenantId,
      platform: input.platform,
      platformAccountId: input.platformAccountId,
      accountName: input.accountName,
      status: 'active',
      installedAt: input.installedAt ?? new Date(),
      uninstalledAt: null,
      scopes: input.scopes,
      sync: input.sync ?? { status: null, lastSyncedAt: null },
    };
    this.#installations.set(installation.id, installation);
    return installation;
  }

  listForTenant(tenantId: string): Promise<readonly InstallationSummary[]> {
    return Promise.resolve([...this.#installations.values()].filter((i) => i.tenantId === tenantId));
  }

  find(tenantId: string, installationId: string): Promise<InstallationSummary | null> {
    const found = this.#installations.get(installationId);
    return Promise.resolve(found !== undefined && found.tenantId === tenantId ? found : null);
  }

  async markUninstalled(tenantId: string, installationId: string): Promise<InstallationSummary> {
    const found = await this.find(tenantId, installationId);
    if (found === null) throw new LedgerlineError('LL_NOT_FOUND', `No installation ${installationId}.`);
    if (found.status === 'uninstalled') return found;
    const updated: InstallationSummary = { ...found, status: 'uninstalled', uninstalledAt: new Date() };
    this.#installations.set(updated.id, updated);
    return updated;
  }
}

/** A readiness probe whose answers a test sets: up, down, or with migrations pending. */
export class ScriptedReadiness implements ReadinessProbe {
  databaseUp = true;
  pending: string[] = [];

  ping(): Promise<void> {
    return this.databaseUp ? Promise.resolve() : Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432 (password=hunter2)'));
  }

  pendingMigrations(): Promise<readonly string[]> {
    return this.databaseUp ? Promise.resolve(this.pending) : Promise.reject(new Error('database is down'));
  }
}
