/**
 * What every long-running command opens, in order: configuration, logger, database (and its
 * migrations), plugins from the manifest, and the sync services. `close()` undoes it in reverse.
 */
import { loadConfig, type Config } from '../config/index.ts';
import { loadPlugins, type LoadedPlugin } from '../contract/index.ts';
import { createLogger, type Logger } from '../log/index.ts';
import { SubjectKeyring } from '../privacy/index.ts';
import { openDatabase, type Database } from '../store/index.ts';
import { tuneHeapForServing } from '../server/heap-tuning.ts';
import { createSyncServices } from '../sync/index.ts';
import { startSandboxes, type StartedSandbox } from './sandboxes.ts';

export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly db: Database;
  readonly plugins: readonly LoadedPlugin[];
  readonly sync: ReturnType<typeof createSyncServices>;
  /** Seals and opens activities' personal fields (per-subject keys under the encryption key). */
  readonly keyring: SubjectKeyring;
  /** Sandbox emulators started for plugins without credentials (only when asked for). */
  readonly sandboxes: readonly StartedSandbox[];
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Component name on every log line. */
  readonly name: string;
  /** Apply pending migrations; 'auto' follows LEDGERLINE_AUTO_MIGRATE. */
  readonly migrate: boolean | 'auto';
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Run plugins that have no credentials against their sandbox emulators (the demo). */
  readonly sandboxes?: boolean;
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  tuneHeapForServing();
  const config = loadConfig(options.env ?? process.env);
  const log = createLogger({ level: config.logLevel, name: options.name });
  // Plugins load before the database opens, so a bad manifest stops start-up without side effects.
  const loaded = await loadPlugins(config.manifestPath, config.environment);
  const { plugins, started } = options.sandboxes ? await startSandboxes(loaded, log) : { plugins: loaded, started: [] };
  const stopSandboxes = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.sandbox.stop()));
  };
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    poolSize: config.dbPoolSize,
    preparedStatements: config.dbPreparedStatements,
    dataDir: config.dataDir,
    embeddedDbPort: config.embeddedDbPort,
  });
  try {
    if (options.migrate === true || (options.migrate === 'auto' && config.autoMigrate)) {
      const applied = await db.migrate();
      if (applied.length > 0) log.info({ applied }, 'applied migrations');
    }
  } catch (error) {
    await db.close();
    await stopSandboxes();
    throw error;
  }
  const sync = createSyncServices({
    sql: db.sql,
    plugins,
    encryptionKey: config.encryptionKey,
    log,
    leaseMs: config.syncLeaseSeconds * 1000,
    defaultIncrementalEveryMs: config.syncIntervalSeconds * 1000,
  });
  if (config.encryptionKeySource === 'data-dir') {
    log.warn({ dataDir: config.dataDir }, 'using the development encryption key from the data directory; set LEDGERLINE_ENCRYPTION_KEY in production');
  }
  return {
    config,
    log,
    db,
    plugins,
    sync,
    keyring: new SubjectKeyring(config.encryptionKey),
    sandboxes: started,
    close: async () => {
      await db.close();
      await stopSandboxes();
    },
  };
}
