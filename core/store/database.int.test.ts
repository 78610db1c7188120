import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerlineError } from '../errors/index.ts';
import { openDatabase, type Database } from './index.ts';

async function openFailure(options: Parameters<typeof openDatabase>[0]): Promise<LedgerlineError> {
  const error = await openDatabase(options).then(
    async (db) => {
      await db.close();
      return null;
    },
    (e: unknown) => e,
  );
  if (!(error instanceof LedgerlineError)) throw new Error(`expected a LedgerlineError, got ${String(error)}`);
  return error;
}

describe('embedded database on disk', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'll-store-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps what was written across a restart from the same data directory', async () => {
    const first = await openDatabase({ dataDir });
    expect(first.embedded).toBe(true);
    expect(first.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(await first.migrate()).not.toEqual([]);
    await first.execute(`insert into tenant (slug, name) values ('kept', 'Kept across restarts')`);
    await first.close();

    const second = await openDatabase({ dataDir });
    expect(await second.pendingMigrations()).toEqual([]);
    expect(await second.execute(`select name from tenant where slug = 'kept'`)).toEqual([{ name: 'Kept across restarts' }]);
    await second.close();
  });

  it('refuses a second open of a data directory in use, and takes over one left by a dead process', async () => {
    const open = await openDatabase({ dataDir });
    try {
      const error = await openFailure({ dataDir });
      expect(error.code).toBe('LL_UNAVAILABLE');
      expect(error.details.field).toBe('LEDGERLINE_DATA_DIR');
      expect(error.message).toContain(`is in use by process ${process.pid}`);
    } finally {
      await open.close();
    }
    // A process that exited without closing (kill -9) leaves its claim behind; so does a previous
    // life of a container whose process had our pid.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    for (const stalePid of [dead.stdout, String(process.pid)]) {
      writeFileSync(join(dataDir, 'pgdata.lock'), `${stalePid}\n`);
      const reopened = await openDatabase({ dataDir });
      expect(await reopened.execute(`select count(*)::int as n from tenant where slug = 'kept'`)).toEqual([{ n: 1 }]);
      await reopened.close();
    }
  });
});

describe('embedded database, one session at a time', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ inMemory: true, poolSize: 4 });
    await db.execute(`create table counter (n int not null)`);
    await db.execute(`insert into counter values (0)`);
  });
  afterAll(async () => {
    await db.close();
  });

  it('runs more concurrent transactions than pooled connections, one after another, losing no update', async () => {
    const increments = Array.from({ length: 12 }, () =>
      db.sql.transaction(async (tx) => {
        const [row] = await tx.query<{ n: number }>(`select n from counter`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        await tx.query(`update counter set n = $1`, [row!.n + 1]);
      }),
    );
    await Promise.all(increments);
    // On a PostgreSQL server these read-modify-writes would race; PGlite serialises whole transactions.
    expect(await db.execute(`select n from counter`)).toEqual([{ n: 12 }]);
  });

  it('holds every other connection while a transaction is open', async () => {
    let commit!: () => void;
    const gate = new Promise<void>((resolve) => (commit = resolve));
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = db.sql.transaction(async (tx) => {
      await tx.query(`update counter set n = 100`);
      inserted();
      await gate;
    });
    await insertedSignal;
    let outside: number | null = null;
    const read = db.execute<{ n: number }>(`select n from counter`).then(([row]) => (outside = row!.n));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(outside).toBeNull();
    commit();
    await transaction;
    await read;
    expect(outside).toBe(100);
  });
});

describe('connecting to a PostgreSQL server', () => {
  it.each([
    ['not a URL', 'not a url', /^DATABASE_URL is not a URL/],
    ['another scheme', 'mysql://root@localhost/app', /^DATABASE_URL must look like postgres:\/\/user@host:port\/database \(got mysql:\/\/localhost\/app\)/],
    ['no database', 'postgres://postgres@127.0.0.1:5432', /^DATABASE_URL must look like/],
    ['nothing listening', 'postgres://nobody:secret@127.0.0.1:1/none', /^cannot connect to PostgreSQL at 127\.0\.0\.1:1\/none \(DATABASE_URL\): /],
  ])('reports %s as LL_UNAVAILABLE naming DATABASE_URL, without the password', async (_case, databaseUrl, message) => {
    const error = await openFailure({ databaseUrl });
    expect(error.code).toBe('LL_UNAVAILABLE');
    expect(error.details.field).toBe('DATABASE_URL');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('secret');
  });

  it.skipIf(!process.env.DATABASE_URL)('runs every pooled connection and transaction with JIT compilation off (needs DATABASE_URL)', async () => {
    const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL! });
    try {
      expect(await db.sql.query(`show jit`)).toEqual([{ jit: 'off' }]);
      expect(await db.sql.transaction((tx) => tx.query(`show jit`))).toEqual([{ jit: 'off' }]);
    } finally {
      await db.close();
    }
  });

  it.skipIf(!process.env.DATABASE_URL)('honours sslmode from the URL, which MikroORM alone would drop (needs DATABASE_URL)', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set('sslmode', 'disable');
    const plain = await openDatabase({ databaseUrl: url.toString() });
    const [server] = await plain.execute<{ ssl: string }>(`show ssl`);
    await plain.close();
    // Against a server without TLS, insisting on it must fail rather than connect in the clear.
    if (server?.ssl !== 'off') return;
    url.searchParams.set('sslmode', 'require');
    expect((await openFailure({ databaseUrl: url.toString() })).message).toMatch(/does not support SSL/);
  });
});
