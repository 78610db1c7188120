/**
 * ServerDeps over the real store: readiness asks the database, tenants and installations come from
 * the store's tenant-scoped directories (one forked EntityManager per call), sync state included.
 */
import type { Router } from 'express';
import type { Logger } from '../log/index.ts';
import type { Registry } from '../metrics/index.ts';
import { createInstallationDirectory, createTenantDirectory } from '../store/index.ts';
import type { Database } from '../store/index.ts';
import type { PluginSummary, ServerConfig, ServerDeps } from './server-deps.ts';

export interface StoreBackedDepsOptions {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly database: Pick<Database, 'fork' | 'ping' | 'pendingMigrations'>;
  readonly plugins: readonly PluginSummary[];
  readonly frameAncestors: readonly string[];
  readonly metrics?: Registry;
  readonly panels?: Router;
}

export function storeBackedDeps(options: StoreBackedDepsOptions): ServerDeps {
  const { database } = options;
  const fork = () => database.fork();
  return {
    config: options.config,
    log: options.log,
    readiness: { ping: () => database.ping(), pendingMigrations: () => database.pendingMigrations() },
    tenants: createTenantDirectory(fork),
    installations: createInstallationDirectory(fork),
    plugins: options.plugins,
    frameAncestors: options.frameAncestors,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.panels === undefined ? {} : { panels: options.panels }),
  };
}
