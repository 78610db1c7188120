/**
 * `npm run bench -- ingest [--n 200000] [--page 1000]`
 *
 * Pushes N platform records through the whole ingest path — validate the raw shape, map to
 * canonical records, content hash, set-based upsert of source records + append of activities, and
 * the ledger entry of every activity, and the checkpoint committed with each page under the sync
 * lease — then, in the same run and the same database, COPYs exactly the same rows (ledger rows
 * with their hashes) into bare tables of the same shape. ratio = pipeline rows/s
 * ÷ COPY rows/s (the physical limit of getting these rows into PostgreSQL from one client).
 *
 * DATABASE_URL set: a throw-away database on that server. Unset: the embedded PGlite default.
 */
import { parseArgs } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { StreamContext } from '../core/contract/index.ts';
import { pageWriter } from '../core/sync/page-writer.ts';
import { SubjectKeyring } from '../core/privacy/index.ts';
import { runStream } from '../core/sync/stream-runner.ts';
import { systemClock } from '../core/sync/index.ts';
import { createLogger } from '../core/log/index.ts';
import { scriptedRecordsStream } from '../test/fixtures/scripted-source/connector.ts';
import { scriptedRecord } from '../test/fixtures/scripted-source/server.ts';
import { resolveTenant } from '../core/identity/identity-store.ts';
import { openPgliteTestDatabase, openPostgresTestDatabase, seedInstallation, type TestDatabase } from '../test/support/database.ts';
import type { BenchResult } from './run.ts';

const log = createLogger({ level: 'silent' });
const say = (text: string): void => void process.stderr.write(`${text}\n`);

/** Every table the pipeline writes for a tenant. */
const pipelineTables = ['source_record', 'activity', 'ledger_entry', 'subject_key', 'identity_member', 'identity_key', 'person', 'account'];

/** The tenant's rows of each pipeline table as CSV, exactly as stored (tables it left empty are skipped). */
async function writtenRows(db: TestDatabase, tenantId: string): Promise<Map<string, { rows: number; csv: Buffer }>> {
  const out = new Map<string, { rows: number; csv: Buffer }>();
  for (const table of pipelineTables) {
    const [exists] = await db.sql.query<{ t: string | null }>(`select to_regclass($1)::text as t`, [table]);
    if (!exists?.t) continue;
    const [count] = await db.sql.query<{ n: string }>(`select count(*)::text as n from ${table} where tenant_id = $1`, [tenantId]);
    if (Number(count!.n) === 0) continue;
    const select = `copy (select * from ${table} where tenant_id = '${tenantId}') to ${db.pglite ? "'/dev/blob'" : 'stdout'} with (format csv)`;
    let csv: Buffer;
    if (db.pglite) {
      const result = await db.pglite.query(select);
      csv = Buffer.from(await (result.blob ?? new Blob([])).arrayBuffer());
    } else {
      const client = new pg.Client({ connectionString: db.connectionUrl });
      await client.connect();
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of client.query(copyTo(select))) chunks.push(chunk as Buffer);
        csv = Buffer.concat(chunks);
      } finally {
        await client.end();
      }
    }
    out.set(table, { rows: Number(count!.n), csv });
  }
  return out;
}

async function copyInto(db: TestDatabase, table: string, csv: Buffer): Promise<void> {
  if (db.pglite) {
    // PGlite's wire server does not implement COPY FROM STDIN; its own COPY reads a blob in process.
    await db.pglite.query(`copy ${table} from '/dev/blob' with (format csv)`, [], { blob: new Blob([csv]) });
    return;
  }
  const client = new pg.Client({ connectionString: db.connectionUrl });
  await client.connect();
  try {
    await pipeline(Readable.from([csv]), client.query(copyFrom(`copy ${table} from stdin with (format csv)`)));
  } finally {
    await client.end();
  }
}

export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({ args: argv, options: { n: { type: 'string', default: '200000' }, page: { type: 'string', default: '1000' } } });
  const n = Number(values.n);
  const pageSize = Number(values.page);
  if (!Number.isInteger(n) || n < 1000 || !Number.isInteger(pageSize) || pageSize < 1) throw new Error('--n must be an integer ≥ 1000 and --page ≥ 1');

  const server = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite';
  say(`ingest: ${n.toLocaleString('en-US')} records (${pageSize} per page) on ${server}`);
  const db = process.env.DATABASE_URL ? await openPostgresTestDatabase() : await openPgliteTestDatabase();
  try {
    const raws = Array.from({ length: n }, (_, i) => scriptedRecord(i));
    const { tenantId, installationId } = await seedInstallation(db, { platform: 'scripted' });
    const key = { tenantId, installationId, stream: 'records' };

    // 1. The pipeline, through the stream runner exactly as a sync runs it.
    // The scripted stream without its HTTP: pages come from memory, and there is no source count.
    const { count: _sourceCount, ...inMemory } = scriptedRecordsStream;
    const stream = {
      ...inMemory,
      // eslint-disable-next-line @typescript-eslint/require-await -- pages come from memory; the contract wants an async generator
      async *read(_ctx: StreamContext, checkpoint: { after: number }) {
        for (let after = checkpoint.after; after < n; after += pageSize) {
          yield { records: raws.slice(after, after + pageSize), checkpoint: { after: Math.min(n, after + pageSize) }, total: n };
        }
      },
    };
    const context = (_key: unknown, signal: AbortSignal): StreamContext => ({
      installation: { id: installationId, tenantId, platformAccountId: 'bench', apiBaseUrl: 'http://127.0.0.1:9' },
      settings: {},
      fetch: () => Promise.reject(new Error('the ingest benchmark makes no HTTP calls')),
      accessToken: () => Promise.resolve('unused'),
      log,
      clock: systemClock,
      signal,
    });
    const pipelineStart = performance.now();
    const summary = await runStream(
      { sql: db.sql, writePage: pageWriter(new SubjectKeyring(randomBytes(32))), context, owner: 'bench', leaseMs: 60_000, clock: systemClock, log, pluginId: 'scripted', defaultIncrementalEveryMs: 60_000 },
      key,
      stream,
      'full',
    );
    if (summary.outcome !== 'succeeded') throw new Error(`pipeline run ${summary.outcome}: ${summary.error?.message ?? ''}`);
    // 2. Identity resolution over what was stored, as serve and workers run it after a sync.
    const identity = await resolveTenant(db.sql, tenantId);
    const pipelineMs = performance.now() - pipelineStart;
    const written = await writtenRows(db, tenantId);
    const rows = [...written.values()].reduce((sum, t) => sum + t.rows, 0);
    say(`pipeline: ${rows.toLocaleString('en-US')} rows in ${(pipelineMs / 1000).toFixed(2)} s (${[...written].map(([t, w]) => `${t} ${w.rows}`).join(', ')}; ${identity.profiles} profiles)`);

    // 3. Exactly the rows the pipeline stored (read back before the clock starts), COPYed into bare
    // tables of the same shape without indexes or keys: the physical limit for these rows.
    for (const table of written.keys()) await db.sql.query(`create table bench_${table} (like ${table} including defaults)`);
    const copyStart = performance.now();
    for (const [table, { csv }] of written) await copyInto(db, `bench_${table}`, csv);
    const copyMs = performance.now() - copyStart;
    const [copied] = await db.sql.query<{ n: string }>(`select ${[...written.keys()].map((t) => `(select count(*) from bench_${t})`).join(' + ')} as n`);
    if (Number(copied!.n) !== rows) throw new Error(`COPY stored ${copied!.n} rows, the pipeline ${rows}`);
    say(`COPY: ${rows.toLocaleString('en-US')} rows in ${(copyMs / 1000).toFixed(2)} s`);

    const pipelineRate = rows / (pipelineMs / 1000);
    const copyRate = rows / (copyMs / 1000);
    return {
      bench: 'ingest',
      metric: 'pipeline rows/s',
      value: Math.round(pipelineRate),
      baseline: 'COPY rows/s into bare tables of the same shape, same database, same run',
      baselineValue: Math.round(copyRate),
      ratio: Number((pipelineRate / copyRate).toFixed(3)),
      records: n,
      rows,
      tables: Object.fromEntries([...written].map(([t, w]) => [t, w.rows])),
      database: server,
    };
  } finally {
    await db.close();
  }
}
