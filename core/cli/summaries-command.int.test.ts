/**
 * `ledgerline summaries refresh` as a user runs it: a real process computes the missing and
 * out-of-date snapshots, leaves current ones alone, and refuses bad arguments before opening
 * anything. On PostgreSQL when DATABASE_URL is set, else on the embedded database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli/run-cli.ts';
import { openPostgresTestDatabase, seedInstallation } from '../../test/support/database.ts';
import { ingestInto, personActivity, personRecord } from '../../test/support/records.ts';
import { openDatabase, type Database } from '../store/index.ts';

// The key behind test/support's testKeyring, so the process opens what the seed sealed.
const encryptionKey = Buffer.alloc(32, 9).toString('base64');

/** An e-mail with a person, now. */
const note = (id: string, key: string) => personActivity(id, key, new Date(), `note ${key}`);

/** Opens the command's database for a write between runs (the embedded one admits one process at a time). */
type Opener = () => Promise<{ db: Database; done(): Promise<void> }>;

if (!process.env.DATABASE_URL) console.info('[summaries command] on the embedded database; set DATABASE_URL to run it on PostgreSQL instead');

describe(`ledgerline summaries on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'the embedded database'}`, () => {
  let dir: string;
  let env: Record<string, string>;
  let open: Opener;
  let ids: { tenantId: string; installationId: string };
  let close: () => Promise<void> = async () => {};
  const summaries = (...args: string[]) => runCli(['summaries', ...args], env);
  const write = async (work: (db: Database) => Promise<unknown>) => {
    const opened = await open();
    try {
      await work(opened.db);
    } finally {
      await opened.done();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'll-summaries-cli-'));
    if (process.env.DATABASE_URL) {
      const db = await openPostgresTestDatabase();
      open = () => Promise.resolve({ db, done: async () => {} });
      close = () => db.close();
      env = { LEDGERLINE_DATA_DIR: dir, DATABASE_URL: db.connectionUrl, LEDGERLINE_ENCRYPTION_KEY: encryptionKey };
    } else {
      open = async () => {
        const db = await openDatabase({ dataDir: dir });
        return { db, done: () => db.close() };
      };
      env = { LEDGERLINE_DATA_DIR: dir, LEDGERLINE_ENCRYPTION_KEY: encryptionKey };
    }
    await write(async (db) => {
      await db.migrate();
      ids = await seedInstallation(db, { slug: 'birch', platform: 'hubspot' });
      await ingestInto(db, ids, [personRecord('31', 'Ana'), personRecord('32', 'Ben'), personRecord('33', 'Cleo')], [note('31', 'a'), note('32', 'b')]);
    });
  }, 60_000);
  afterAll(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('computes every missing snapshot, then none while they stay current', async () => {
    const first = await summaries('refresh', '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ tenant: 'birch', refreshed: 3, current: 3, remaining: 0, failed: [] });
    const again = await summaries('refresh', '--tenant', 'birch');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^birch: 0 snapshots computed in \d+\.\d s; 3 people current, 0 not$/m);
  });

  it('recomputes only the snapshot a new activity made out of date', async () => {
    await write((db) => ingestInto(db, ids, [], [note('32', 'c')]));
    const run = await summaries('refresh', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ tenant: 'birch', refreshed: 1, current: 3, remaining: 0 });
    await write(async (db) => {
      const rows = await db.sql.query<{ external_id: string }>(`select external_id from summary_snapshot where tenant_id = $1 order by computed_at desc limit 1`, [ids.tenantId]);
      expect(rows.map((r) => r.external_id)).toEqual(['32']);
    });
  });

  it('stops at --limit and says how many are left', async () => {
    await write((db) => ingestInto(db, ids, [], [note('31', 'd'), note('33', 'e')]));
    const run = await summaries('refresh', '--limit', '1', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ refreshed: 1, current: 2, remaining: 1 });
  });

  it('refuses an unknown action, a bad limit and an unknown tenant with a clear message', async () => {
    const action = await summaries('rebuild');
    expect(action.code).toBe(64);
    expect(action.stderr).toContain("unknown action 'rebuild': use refresh");
    const limit = await summaries('refresh', '--limit', 'many');
    expect(limit.code).toBe(64);
    expect(limit.stderr).toMatch(/--limit/);
    const tenant = await summaries('refresh', '--tenant', 'nope');
    expect(tenant.code).toBe(1);
    expect(tenant.stderr).toContain('no tenant nope');
  });
});
