/**
 * Opens the store: a PostgreSQL server when DATABASE_URL is set, otherwise embedded PGlite persisted
 * in the data directory and served in-process over the Postgres wire protocol, so the same driver
 * (pg through MikroORM) and the same SQL run on both.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely } from 'kysely';
import { LedgerlineError } from '../errors/index.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';
import type { SqlSession } from './sql-session.ts';

export interface DatabaseOptions {
  /** A PostgreSQL server; unset means embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  /** Where embedded PGlite keeps its files (`<dataDir>/pgdata`). */
  readonly dataDir?: string;
  /** Embedded only: loopback port of the wire-protocol server (0: a free port). */
  readonly embeddedDbPort?: number;
  /** Embedded only: keep everything in memory (tests, benchmarks). */
  readonly inMemory?: boolean;
  /** Connections in the pool (the embedded database runs one session at a time anyway). */
  readonly poolSize?: number;
  readonly debug?: boolean;
}

export interface Database {
  readonly orm: MikroORM;
  readonly embedded: boolean;
  /** The in-process PGlite, for what its wire server lacks (COPY FROM STDIN); null on a PostgreSQL server. */
  readonly pglite: PGlite | null;
  /** The connection URL in use (for the embedded database, its loopback wire-protocol address). */
  readonly url: string;
  /** A fresh EntityManager for one request or job (the identity map is not a cache). */
  fork(): EntityManager;
  /** Raw SQL outside any transaction, and transactions that hand back the same shape. */
  readonly sql: SqlSession;
  migrate(): Promise<string[]>;
  pendingMigrations(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

interface Embedded {
  readonly url: string;
  readonly pglite: PGlite;
  stop(): Promise<void>;
}

async function startEmbedded(options: DatabaseOptions): Promise<Embedded> {
  let db: PGlite;
  if (options.inMemory) {
    db = await PGlite.create();
  } else {
    const dir = join(options.dataDir ?? './.ledgerline', 'pgdata');
    mkdirSync(dir, { recursive: true });
    db = await PGlite.create({ dataDir: dir });
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.embeddedDbPort ?? 0, maxConnections: 64 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw new LedgerlineError('LL_UNAVAILABLE', `the embedded database could not listen on 127.0.0.1:${options.embeddedDbPort ?? 0}`, {
      cause: error,
      details: { field: 'LEDGERLINE_EMBEDDED_DB_PORT' },
    });
  }
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    pglite: db,
    async stop() {
      await server.stop();
      // Closing flushes PGlite's files: data written before close survives a restart.
      await db.close();
    },
  };
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const embedded = options.databaseUrl ? null : await startEmbedded(options);
  const url = options.databaseUrl ?? embedded!.url;
  let orm: MikroORM;
  try {
    orm = await MikroORM.init({
      clientUrl: url,
      entities,
      extensions: [Migrator],
      migrations: { migrationsList: migrations, transactional: true, allOrNothing: true, snapshot: false, tableName: 'mikro_orm_migrations', silent: true },
      pool: { min: 0, max: options.poolSize ?? (embedded ? 4 : 10) },
      debug: options.debug ?? false,
      allowGlobalContext: false,
      ensureDatabase: false,
    });
    await orm.em.getConnection().execute('select 1');
  } catch (error) {
    await embedded?.stop();
    const where = embedded ? 'the embedded database' : `PostgreSQL at ${describeUrl(url)}`;
    throw new LedgerlineError('LL_UNAVAILABLE', `cannot connect to ${where}: ${(error as Error).message}`, {
      cause: error,
      details: { field: embedded ? 'LEDGERLINE_DATA_DIR' : 'DATABASE_URL' },
    });
  }
  const sql = sqlSessionOf(orm.em.fork());
  let closed = false;
  return {
    orm,
    embedded: embedded !== null,
    pglite: embedded?.pglite ?? null,
    url,
    fork: () => orm.em.fork(),
    sql,
    async migrate() {
      const applied = await orm.migrator.up();
      return applied.map((m) => m.name);
    },
    async pendingMigrations() {
      const pending = await orm.migrator.getPending();
      return pending.map((m) => m.name);
    },
    async ping() {
      await orm.em.getConnection().execute('select 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      // A pooled connection the server terminated can leave the pool waiting forever on shutdown;
      // nothing is in flight by now, so give it a bounded time.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        orm.close(true),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 5_000);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      await embedded?.stop();
    },
  };
}

/**
 * Raw SQL through the ORM's own connection pool (and its transaction, when the EntityManager is in
 * one), with real bind parameters ($1, $2…): the ORM's `execute` would inline values into the text,
 * which is slow for the array parameters of the bulk path.
 */
export function sqlSessionOf(em: EntityManager): SqlSession {
  const connection = em.getConnection();
  const ctx = em.getTransactionContext<{ executeQuery: Kysely<unknown>['executeQuery'] }>();
  return {
    async query<Row extends object>(text: string, params: readonly unknown[] = []) {
      await connection.ensureConnection();
      const client = ctx ?? connection.getClient<unknown>();
      const result = await client.executeQuery<Row>(CompiledQuery.raw(text, [...params]));
      return [...result.rows];
    },
    async transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
      if (ctx) return work(this);
      return em.fork().transactional((txEm) => work(sqlSessionOf(txEm)));
    },
  };
}
