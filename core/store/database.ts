/**
 * Opens the store: a PostgreSQL server when DATABASE_URL is set, otherwise embedded PGlite persisted
 * in the data directory and served in-process over the Postgres wire protocol, so the same driver
 * (pg through MikroORM) and the same SQL run on both.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { PGlite } from '@electric-sql/pglite';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely } from 'kysely';
import { LedgerlineError } from '../errors/index.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { entities } from './entities.ts';
import { migrations } from './migrations/index.ts';
import type pg from 'pg';
import type { QueryOptions, SqlSession } from './sql-session.ts';

export interface DatabaseOptions {
  /** A PostgreSQL server; unset means embedded PGlite. */
  readonly databaseUrl?: string | undefined;
  /** Where embedded PGlite keeps its files (`<dataDir>/pgdata`). */
  readonly dataDir?: string;
  /** Embedded only: loopback port of the wire-protocol server (0: a free port). */
  readonly embeddedDbPort?: number;
  /** Embedded only: keep everything in memory (tests, benchmarks). */
  readonly inMemory?: boolean;
  /** In memory only: start from this dump of a data directory (creating a cluster costs seconds; loading one does not). */
  readonly inMemorySnapshot?: Blob;
  /**
   * Connections in the pool. Embedded: 4 (it runs one session at a time anyway). Server: twice
   * this host's cores plus one, at least 4; more connections than cores makes statements wait in
   * the CPU run queue, where they also switch contexts, instead of in the pool.
   */
  readonly poolSize?: number | undefined;
  /** Server only: run `prepared: true` statements as named prepared statements (default true). */
  readonly preparedStatements?: boolean | undefined;
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
  /** Raw SQL with $1, $2… parameters through the ORM's pool (same as `sql.query`). */
  execute<Row extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  migrate(): Promise<string[]>;
  pendingMigrations(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

function unavailable(message: string, field: string, cause?: unknown): LedgerlineError {
  return new LedgerlineError('LL_UNAVAILABLE', message, { details: { field }, ...(cause === undefined ? {} : { cause }) });
}

/** The server's address for messages (never the password), or why the URL cannot be used. */
function parseDatabaseUrl(url: string): { where: string; ssl: boolean | { rejectUnauthorized: boolean } | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw unavailable('DATABASE_URL is not a URL; expected postgres://user@host:port/database', 'DATABASE_URL');
  }
  if ((u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') || u.hostname === '' || u.pathname.length <= 1) {
    throw unavailable(`DATABASE_URL must look like postgres://user@host:port/database (got ${u.protocol}//${u.host}${u.pathname})`, 'DATABASE_URL');
  }
  // MikroORM reads host, port, user, password and database from the URL but drops its query string,
  // so the TLS choice `sslmode` makes for libpq clients is carried over here.
  const mode = u.searchParams.get('sslmode');
  const ssl =
    mode === null || mode === 'disable' || mode === 'allow' || mode === 'prefer'
      ? undefined
      : mode === 'require' || mode === 'no-verify'
        ? { rejectUnauthorized: false }
        : true;
  return { where: `${u.hostname}:${u.port || '5432'}${u.pathname}`, ssl };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const server = options.databaseUrl ? parseDatabaseUrl(options.databaseUrl) : null;
  const embedded = server
    ? null
    : await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedDbPort, inMemory: options.inMemory, loadDataDir: options.inMemorySnapshot });
  const url = options.databaseUrl ?? embedded!.url;
  let orm: MikroORM;
  try {
    orm = await MikroORM.init({
      clientUrl: url,
      // pg waits forever for a connection by default; a server that does not answer should fail start-up.
      // JIT compilation is for long analytical scans; on these short, frequent statements (panels,
      // report aggregations whose estimates cross its cost thresholds) it costs more than it saves.
      driverOptions: { connectionTimeoutMillis: 10_000, ...(server ? { options: '-c jit=off' } : {}), ...(server?.ssl === undefined ? {} : { ssl: server.ssl }) },
      entities,
      extensions: [Migrator],
      migrations: { migrationsList: migrations, transactional: true, allOrNothing: true, snapshot: false, tableName: 'mikro_orm_migrations', silent: true },
      pool: { min: 0, max: options.poolSize ?? (embedded ? 4 : defaultServerPoolSize()) },
      debug: options.debug ?? false,
      allowGlobalContext: false,
      ensureDatabase: false,
    });
    await orm.em.getConnection().execute('select 1');
  } catch (error) {
    await embedded?.stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw server
      ? unavailable(`cannot connect to PostgreSQL at ${server.where} (DATABASE_URL): ${reason}`, 'DATABASE_URL', error)
      : unavailable(`cannot open the embedded database: ${reason}`, 'LEDGERLINE_DATA_DIR', error);
  }
  const sql = sqlSessionOf(orm.em.fork(), { prepare: embedded === null && options.preparedStatements !== false });
  let closed = false;
  return {
    orm,
    embedded: embedded !== null,
    pglite: embedded?.pglite ?? null,
    url,
    fork: () => orm.em.fork(),
    sql,
    execute: (text, params) => sql.query(text, params),
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
export function sqlSessionOf(em: EntityManager, options: { prepare?: boolean } = {}): SqlSession {
  const connection = em.getConnection();
  const ctx = em.getTransactionContext<{ executeQuery: Kysely<unknown>['executeQuery'] }>();
  const prepare = options.prepare === true && !ctx;
  return {
    async query<Row extends object>(text: string, params: readonly unknown[] = [], queryOptions: QueryOptions = {}) {
      await connection.ensureConnection();
      if (prepare && queryOptions.prepared) {
        // The same pool, through pg's named statements (Kysely has no way to name one).
        const pool = await (connection as unknown as { getNativeClient(): Promise<pg.Pool> }).getNativeClient();
        const result = await pool.query<Row>({ name: statementName(text), text, values: [...params] });
        return result.rows;
      }
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

const defaultServerPoolSize = (): number => Math.max(4, 2 * availableParallelism() + 1);

/** A prepared statement's name: its text's digest, so one name never stands for two texts. */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `ll_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}
