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
import { from as copyFrom } from 'pg-copy-streams';
import type { StreamContext } from '../core/contract/index.ts';
import { contentHash } from '../core/store/index.ts';
import { prepareRecords } from '../core/sync/record-pipeline.ts';
import { pageWriter } from '../core/sync/page-writer.ts';
import { SubjectKeyring } from '../core/privacy/index.ts';
import { runStream } from '../core/sync/stream-runner.ts';
import { systemClock } from '../core/sync/index.ts';
import { createLogger } from '../core/log/index.ts';
import { scriptedRecordsStream } from '../test/fixtures/scripted-source/connector.ts';
import { scriptedRecord } from '../test/fixtures/scripted-source/server.ts';
import { openPgliteTestDatabase, openPostgresTestDatabase, seedInstallation } from '../test/support/database.ts';
import type { BenchResult } from './run.ts';

const log = createLogger({ level: 'silent' });
const say = (text: string): void => void process.stderr.write(`${text}\n`);

function csvField(value: string | null): string {
  if (value === null) return '\\N';
  return `"${value.replaceAll('"', '""')}"`;
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
    const pipelineMs = performance.now() - pipelineStart;
    if (summary.outcome !== 'succeeded') throw new Error(`pipeline run ${summary.outcome}: ${summary.error?.message ?? ''}`);
    const [counts] = await db.sql.query<{ records: string; activities: string; ledger: string }>(
      `select (select count(*) from source_record where installation_id = $1) as records, (select count(*) from activity where installation_id = $1) as activities,
              (select count(*) from ledger_entry where tenant_id = $2) as ledger`,
      [installationId, tenantId],
    );
    const rows = Number(counts!.records) + Number(counts!.activities) + Number(counts!.ledger);
    say(`pipeline: ${rows.toLocaleString('en-US')} rows in ${(pipelineMs / 1000).toFixed(2)} s`);

    // 2. The same rows, precomputed, COPYed into bare tables of the same shape (no indexes or keys).
    const prepared = prepareRecords(stream, raws);
    await db.sql.query(`create table bench_source_record (like source_record including defaults)`);
    await db.sql.query(`create table bench_activity (like activity including defaults)`);
    await db.sql.query(`create table bench_ledger_entry (like ledger_entry including defaults)`);
    // The ledger rows exactly as the pipeline stored them (hashes included), read before the clock starts.
    const ledgerRows = await db.sql.query<{ line: string }>(
      `select concat_ws(',', tenant_id, seq, '"' || replace(kind, '"', '""') || '"', '"' || replace(body::text, '"', '""') || '"', coalesce(corrects::text, '\\N'), recorded_at, '\\x' || encode(prev_hash, 'hex'), '\\x' || encode(hash, 'hex')) || chr(10) as line
         from ledger_entry where tenant_id = $1 order by seq`,
      [tenantId],
    );
    const sourceCsv = function* (): Generator<string> {
      for (const r of prepared.records) {
        yield [tenantId, installationId, r.source.objectType, r.source.externalId, r.source.updatedAt!.toISOString(), contentHash(r.source.payload), JSON.stringify(r.source.payload), JSON.stringify(r.mapped)]
          .map(csvField)
          .join(',') + '\n';
      }
    };
    const activityCsv = function* (): Generator<string> {
      for (const a of prepared.activities) {
        yield [tenantId, installationId, a.kind, a.category, a.occurredAt.toISOString(), a.subject.kind, a.subject.objectType, a.subject.externalId, a.source.objectType, a.source.externalId, a.discriminator, a.amount?.value ?? null, a.amount?.currency ?? null, a.summary, JSON.stringify(a.attributes)]
          .map(csvField)
          .join(',') + '\n';
      }
    };
    const sourceCopy = `copy bench_source_record (tenant_id, installation_id, object_type, external_id, platform_updated_at, content_hash, payload, canonical)`;
    const ledgerCopy = `copy bench_ledger_entry (tenant_id, seq, kind, body, corrects, recorded_at, prev_hash, hash)`;
    const activityCopy = `copy bench_activity (tenant_id, installation_id, kind, category, occurred_at, subject_kind, subject_object_type, subject_external_id, source_object_type, source_external_id, discriminator, amount, currency, summary, attributes)`;
    const csv = `with (format csv, null '\\N')`;
    const copyStart = performance.now();
    if (db.pglite) {
      // PGlite's wire server does not implement COPY FROM STDIN; its own COPY reads a blob in process.
      await db.pglite.query(`${sourceCopy} from '/dev/blob' ${csv}`, [], { blob: new Blob([...sourceCsv()]) });
      await db.pglite.query(`${activityCopy} from '/dev/blob' ${csv}`, [], { blob: new Blob([...activityCsv()]) });
      await db.pglite.query(`${ledgerCopy} from '/dev/blob' ${csv}`, [], { blob: new Blob(ledgerRows.map((r) => r.line)) });
    } else {
      const client = new pg.Client({ connectionString: db.connectionUrl });
      await client.connect();
      try {
        await pipeline(Readable.from(sourceCsv()), client.query(copyFrom(`${sourceCopy} from stdin ${csv}`)));
        await pipeline(Readable.from(activityCsv()), client.query(copyFrom(`${activityCopy} from stdin ${csv}`)));
        await pipeline(Readable.from(ledgerRows.map((r) => r.line)), client.query(copyFrom(`${ledgerCopy} from stdin ${csv}`)));
      } finally {
        await client.end();
      }
    }
    const copyMs = performance.now() - copyStart;
    const [copied] = await db.sql.query<{ n: string }>(`select (select count(*) from bench_source_record) + (select count(*) from bench_activity) + (select count(*) from bench_ledger_entry) as n`);
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
      database: server,
    };
  } finally {
    await db.close();
  }
}
