/**
 * The embedded default: PGlite (PostgreSQL compiled to WASM) in this process, persisted in
 * `<dataDir>/pgdata` (or in memory), served on loopback over the Postgres wire protocol by
 * pglite-socket, so the same driver and SQL run here as on a PostgreSQL server.
 *
 * PGlite runs one session at a time. pglite-socket multiplexes connections onto it; our
 * SessionQueue serves one connection's whole exchange (to its Sync) and whole transaction at a
 * time while the others queue.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { LedgerlineError } from '../errors/index.ts';
import { SessionQueue } from './session-queue.ts';

export interface EmbeddedPostgres {
  /** postgres:// URL of the loopback wire-protocol server. */
  readonly url: string;
  readonly pglite: PGlite;
  /** Stops the wire server, then closes PGlite (which flushes its files), then frees the directory. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  readonly dataDir?: string | undefined;
  readonly port?: number | undefined;
  readonly inMemory?: boolean | undefined;
  /** In memory only: start from this dump of a data directory (`PGlite.dumpDataDir`) instead of a new cluster. */
  readonly loadDataDir?: Blob | undefined;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Directories this process has claimed: a claim naming our pid but not listed here is a previous life's. */
const claimedHere = new Set<string>();

/**
 * Two PGlite instances on one directory corrupt it (PGlite takes no lock of its own), so the
 * directory is claimed with a pid file; a claim left by a process that died is taken over.
 */
function claimDirectory(pgdata: string): () => void {
  const lock = `${pgdata}.lock`;
  const release = () => {
    claimedHere.delete(lock);
    rmSync(lock, { force: true });
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      claimedHere.add(lock);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    // After a container restart our own pid may be the one in a stale claim.
    const held = owner === process.pid ? claimedHere.has(lock) : Number.isInteger(owner) && processIsAlive(owner);
    if (held) {
      throw new LedgerlineError(
        'LL_UNAVAILABLE',
        `the embedded database in ${pgdata} is in use by process ${owner}${owner === process.pid ? ' (this one)' : ''}: ` +
          `stop it, connect to its port, or set DATABASE_URL (if no Ledgerline is running, delete ${lock})`,
        { details: { field: 'LEDGERLINE_DATA_DIR' } },
      );
    }
    rmSync(lock, { force: true });
  }
  throw new LedgerlineError('LL_UNAVAILABLE', `could not claim the embedded database in ${pgdata}`, { details: { field: 'LEDGERLINE_DATA_DIR' } });
}

async function createPglite(options: EmbeddedPostgresOptions): Promise<{ db: PGlite; release: () => void }> {
  if (options.inMemory) return { db: await PGlite.create(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}), release: () => undefined };
  const pgdata = join(options.dataDir ?? './.ledgerline', 'pgdata');
  mkdirSync(pgdata, { recursive: true });
  const release = claimDirectory(pgdata);
  try {
    return { db: await PGlite.create({ dataDir: pgdata }), release };
  } catch (error) {
    release();
    throw new LedgerlineError('LL_UNAVAILABLE', `the embedded database in ${pgdata} could not be opened: ${(error as Error).message}`, {
      cause: error,
      details: { field: 'LEDGERLINE_DATA_DIR' },
    });
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { db, release } = await createPglite(options);
  const port = options.port ?? 0;
  // Connections beyond the ORM's pool: the sync queue, a second pool in tests, psql on the port.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 64 });
  // Connection handlers take the server's queue when they attach, so this replaces it for all.
  (server as unknown as { queryQueue: SessionQueue }).queryQueue = new SessionQueue(db);
  try {
    await server.start();
  } catch (error) {
    await db.close();
    release();
    throw new LedgerlineError('LL_UNAVAILABLE', `the embedded database could not listen on 127.0.0.1:${port}: ${(error as Error).message}`, {
      cause: error,
      details: { field: 'LEDGERLINE_EMBEDDED_DB_PORT' },
    });
  }
  return {
    // getServerConn() reports the port actually bound, also when 0 asked for a free one.
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    pglite: db,
    async stop() {
      await server.stop();
      // Closing flushes PGlite's files: data written before close survives a restart.
      await db.close();
      release();
    },
  };
}
