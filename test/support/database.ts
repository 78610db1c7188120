/**
 * Fresh, migrated databases for tests, on both engines Ledgerline runs on: embedded PGlite (in
 * memory, served over the wire protocol exactly as `npm start` does) always, and a real PostgreSQL
 * server when DATABASE_URL is set — a uniquely named database per call, dropped afterwards, so
 * parallel test files never collide.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { openDatabase, type Database } from '../../core/store/index.ts';
import { migrations } from '../../core/store/migrations/index.ts';
import { SubjectKeyring } from '../../core/privacy/index.ts';

export interface TestDatabase extends Database {
  /** A URL other processes (workers under test) can connect to. */
  readonly connectionUrl: string;
}

export interface TestDatabaseVariant {
  readonly label: 'PGlite' | 'PostgreSQL';
  /** Why this variant cannot run here; null when it can. */
  readonly skipReason: string | null;
  open(options?: { poolSize?: number }): Promise<TestDatabase>;
}

function adminUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates a throw-away database on the server in DATABASE_URL and opens it migrated. */
export async function openPostgresTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set');
  const name = `ll_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = adminUrl(base, name);
  const drop = async () => {
    // force ends stragglers (workers a test killed, a pool that failed to close).
    const dropper = new pg.Client({ connectionString: base });
    await dropper.connect();
    try {
      await dropper.query(`drop database if exists ${name} with (force)`);
    } finally {
      await dropper.end();
    }
  };
  let db: Database;
  try {
    db = await openDatabase({ databaseUrl: url, ...(options.poolSize ? { poolSize: options.poolSize } : {}) });
  } catch (error) {
    await drop();
    throw error;
  }
  try {
    await db.migrate();
  } catch (error) {
    await db.close();
    await drop();
    throw error;
  }
  return {
    ...db,
    connectionUrl: url,
    async close() {
      try {
        await db.close();
      } finally {
        await drop();
      }
    },
  };
}

/**
 * A migrated embedded database is the same for every test file, and creating one (initdb in WASM,
 * then every migration) costs seconds of CPU: the first file to need one dumps it, keyed by the
 * migrations (their names and code, so editing one is a new dump) and the PGlite version, and
 * later files load that dump instead.
 */
const pgliteVersion = (JSON.parse(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url), 'utf8')) as { version: string }).version;
const snapshotFile = join(
  tmpdir(),
  `ledgerline-pglite-${createHash('sha256').update(JSON.stringify([migrations.map((m) => [m.name, String(m.class)]), pgliteVersion])).digest('hex').slice(0, 16)}.tar`,
);

async function migratedSnapshot(): Promise<Blob | undefined> {
  try {
    return new Blob([await readFile(snapshotFile)]);
  } catch {
    return undefined;
  }
}

async function saveSnapshot(db: Database): Promise<void> {
  const dump = await db.pglite!.dumpDataDir('none');
  const partial = `${snapshotFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
  // Whole or not at all: a reader never sees half a dump.
  await rename(partial, snapshotFile);
}

export async function openPgliteTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const snapshot = await migratedSnapshot();
  const db = await openDatabase({ inMemory: true, ...(snapshot ? { inMemorySnapshot: snapshot } : {}), ...(options.poolSize ? { poolSize: options.poolSize } : {}) });
  // A no-op on a current snapshot; it still proves the schema is the migrated one.
  const applied = await db.migrate();
  if (!snapshot || applied.length > 0) await saveSnapshot(db);
  return { ...db, connectionUrl: db.url };
}

let announced = false;

/** Both variants; the PostgreSQL one says why it is skipped when DATABASE_URL is unset. */
export function testDatabases(): TestDatabaseVariant[] {
  const skipReason = process.env.DATABASE_URL ? null : 'DATABASE_URL is not set, so the PostgreSQL-server variant does not run';
  if (skipReason && !announced) {
    announced = true;
    console.info(`[test databases] ${skipReason}`);
  }
  return [
    { label: 'PGlite', skipReason: null, open: openPgliteTestDatabase },
    { label: 'PostgreSQL', skipReason, open: openPostgresTestDatabase },
  ];
}

/**
 * One `describe` per variant with a fresh migrated database opened before its tests and closed
 * (dropped, on PostgreSQL) after them. The skipped variant's title says why it did not run.
 */
export function describeOnTestDatabases(
  title: string,
  suite: (db: () => TestDatabase) => void,
  options: { poolSize?: number } = {},
): void {
  for (const variant of testDatabases()) {
    const label = `${title} on ${variant.label}${variant.skipReason ? ` (skipped: ${variant.skipReason})` : ''}`;
    describe.skipIf(variant.skipReason !== null)(label, () => {
      let db: TestDatabase | undefined;
      beforeAll(async () => {
        db = await variant.open(options);
      });
      afterAll(async () => {
        await db?.close();
      });
      suite(() => {
        if (!db) throw new Error('the test database is not open yet: use it inside a test or hook');
        return db;
      });
    });
  }
}

/** Creates a tenant and an active installation straight in SQL; returns their ids. */
export async function seedInstallation(
  db: Database,
  options: { slug?: string; platform?: string; platformAccountId?: string; apiBaseUrl?: string; sealedTokens?: string | null } = {},
): Promise<{ tenantId: string; installationId: string }> {
  const slug = options.slug ?? `t-${randomBytes(4).toString('hex')}`;
  const [tenant] = await db.sql.query<{ id: string }>(`insert into tenant (slug, name) values ($1, $2) returning id`, [slug, `Tenant ${slug}`]);
  const [installation] = await db.sql.query<{ id: string }>(
    `insert into installation (tenant_id, platform, platform_account_id, display_name, api_base_url, sealed_tokens)
     values ($1, $2, $3, $4, $5, $6) returning id`,
    [
      tenant!.id,
      options.platform ?? 'scripted',
      options.platformAccountId ?? `acct-${randomBytes(4).toString('hex')}`,
      'Test installation',
      options.apiBaseUrl ?? 'http://127.0.0.1:9',
      options.sealedTokens ?? null,
    ],
  );
  return { tenantId: tenant!.id, installationId: installation!.id };
}

/** The keyring tests seal activities with (an obviously fake key). */
export const testKeyring = new SubjectKeyring(Buffer.alloc(32, 9));
