/**
 * Archiving: a retention policy moves a tenant's old ledger entries out of the hot `ledger_entry`
 * table into segment files, and the chain stays verifiable end to end.
 *
 * A segment is `<archive dir>/<tenant>/<from>-<to>.jsonl.gz`: one entry per line, exactly as
 * stored (sequence, kind, body, corrects, recorded at, previous hash, hash). Archiving a segment:
 * 1. re-verifies the stretch (it follows the previous segment's last hash and every entry holds) —
 *    a broken stretch is refused rather than laundered into an archive;
 * 2. writes the file (temporary name, fsync, rename), so a crash leaves at worst an orphan file that
 *    the next run overwrites;
 * 3. in one transaction registers the segment in `ledger_archive` (append-only: its range, the
 *    hash chaining into it and out of it, the file's SHA-256), deletes the archived rows — the
 *    database refuses DELETE on `ledger_entry` except for rows a registered segment covers — and
 *    appends `ledger.archived` to the hot chain.
 * Verification reads the segments first (checking each file's SHA-256 against its registration),
 * then continues in the database from the last archived hash.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { appendEntries, entryJson, genesisHash, readEntries, type LedgerEntry, type LedgerExecutor } from './ledger.ts';
import { checkEntry } from './verify.ts';

export interface ArchivedSegment {
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly firstPrevHash: Buffer;
  readonly lastHash: Buffer;
  readonly entries: number;
  /** Relative to the archive directory. */
  readonly file: string;
  readonly fileSha256: Buffer;
}

/** At most this many entries per segment file. */
export const segmentEntries = 50_000;

export async function archivedSegments(exec: LedgerExecutor, tenantId: string): Promise<ArchivedSegment[]> {
  const rows = await exec(
    `select from_seq::text as from_seq, to_seq::text as to_seq, encode(first_prev_hash, 'hex') as first_prev, encode(last_hash, 'hex') as last_hash,
            entries, file, encode(file_sha256, 'hex') as file_sha256
       from ledger_archive where tenant_id = $1 order by from_seq`,
    [tenantId],
  );
  return rows.map((r) => ({
    fromSeq: Number(r.from_seq),
    toSeq: Number(r.to_seq),
    firstPrevHash: Buffer.from(String(r.first_prev), 'hex'),
    lastHash: Buffer.from(String(r.last_hash), 'hex'),
    entries: Number(r.entries),
    file: String(r.file),
    fileSha256: Buffer.from(String(r.file_sha256), 'hex'),
  }));
}

const ArchivedLine = z.strictObject({
  seq: z.number().int().positive(),
  kind: z.string(),
  recordedAt: z.string(),
  corrects: z.number().int().nullable(),
  body: z.record(z.string(), z.unknown()),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * The entries of one segment file, after checking the file is the one registered. Throws with the
 * reason when the file is missing, altered or unreadable.
 */
export function readSegment(archiveDir: string, tenantId: string, segment: ArchivedSegment): LedgerEntry[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(archiveDir, segment.file));
  } catch (error) {
    throw new LedgerlineError('LL_INTEGRITY', `archived entries ${segment.fromSeq}–${segment.toSeq}: the segment file ${segment.file} cannot be read`, { cause: error });
  }
  if (!createHash('sha256').update(bytes).digest().equals(segment.fileSha256)) {
    throw new LedgerlineError('LL_INTEGRITY', `archived entries ${segment.fromSeq}–${segment.toSeq}: the segment file ${segment.file} is not the one archived (its SHA-256 differs)`);
  }
  const lines = gunzipSync(bytes).toString('utf8').split('\n').filter((l) => l !== '');
  return lines.map((line) => {
    const parsed = ArchivedLine.safeParse(JSON.parse(line));
    if (!parsed.success) throw new LedgerlineError('LL_INTEGRITY', `archived entries ${segment.fromSeq}–${segment.toSeq}: a line of ${segment.file} is not a ledger entry`);
    const e = parsed.data;
    return { tenantId, seq: e.seq, kind: e.kind, body: e.body, corrects: e.corrects, recordedAt: e.recordedAt, prevHash: Buffer.from(e.prevHash, 'hex'), hash: Buffer.from(e.hash, 'hex') };
  });
}

function writeDurably(path: string, bytes: Buffer): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w', 0o444);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

export interface ArchiveResult {
  readonly tenantId: string;
  readonly segments: readonly { fromSeq: number; toSeq: number; file: string }[];
  readonly archivedEntries: number;
}

/**
 * Archives every entry recorded before `olderThan` (in segments of `segmentEntries`), leaving the
 * newest entry in the database so the hot chain always has a head to continue from.
 */
export async function archiveLedger(sql: SqlSession, tenantId: string, options: { archiveDir: string; olderThan: Date; now?: Date }): Promise<ArchiveResult> {
  const exec: LedgerExecutor = (text, params) => sql.query(text, params);
  const segments: { fromSeq: number; toSeq: number; file: string }[] = [];
  let archived = 0;
  for (;;) {
    const existing = await archivedSegments(exec, tenantId);
    const previous = existing.at(-1);
    const fromSeq = (previous?.toSeq ?? 0) + 1;
    const [bounds] = await exec(
      `select coalesce(max(seq), 0)::text as last_old, (select coalesce(max(seq), 0) from ledger_entry where tenant_id = $1)::text as last
         from ledger_entry where tenant_id = $1 and seq >= $2 and seq < $2 + $4 and recorded_at < $3`,
      [tenantId, fromSeq, options.olderThan.toISOString(), segmentEntries],
    );
    // Never the newest entry: the chain's head stays hot.
    const toSeq = Math.min(Number(bounds?.last_old ?? 0), Number(bounds?.last ?? 0) - 1);
    if (toSeq < fromSeq) break;
    const entries = await readEntries(exec, tenantId, fromSeq - 1, toSeq - fromSeq + 1);
    let prev = previous?.lastHash ?? genesisHash;
    for (const [i, entry] of entries.entries()) {
      const broken = checkEntry(entry, fromSeq + i, prev);
      if (broken) throw new LedgerlineError('LL_INTEGRITY', `refusing to archive a broken chain: ${broken.reason}; run \`ledgerline verify\``);
      prev = entry.hash;
    }
    if (entries.length !== toSeq - fromSeq + 1) throw new LedgerlineError('LL_INTEGRITY', `refusing to archive entries ${fromSeq}–${toSeq}: some are missing; run \`ledgerline verify\``);
    const file = join(tenantId, `${String(fromSeq).padStart(12, '0')}-${String(toSeq).padStart(12, '0')}.jsonl.gz`);
    const bytes = gzipSync(Buffer.from(entries.map((e) => JSON.stringify(entryJson(e))).join('\n') + '\n', 'utf8'));
    mkdirSync(join(options.archiveDir, tenantId), { recursive: true });
    writeDurably(join(options.archiveDir, file), bytes);
    const sha = createHash('sha256').update(bytes).digest();
    const first = entries[0]!;
    await sql.transaction(async (tx) => {
      const run: LedgerExecutor = (text, params) => tx.query(text, params);
      await run(
        `insert into ledger_archive (tenant_id, from_seq, to_seq, first_prev_hash, last_hash, entries, file, file_sha256)
         values ($1, $2, $3, decode($4, 'hex'), decode($5, 'hex'), $6, $7, decode($8, 'hex'))`,
        [tenantId, fromSeq, toSeq, first.prevHash.toString('hex'), prev.toString('hex'), entries.length, file, sha.toString('hex')],
      );
      await run(`delete from ledger_entry where tenant_id = $1 and seq between $2 and $3`, [tenantId, fromSeq, toSeq]);
      await appendEntries(run, tenantId, [{ kind: 'ledger.archived', body: { fromSeq, toSeq, entries: entries.length, file, fileSha256: sha.toString('hex'), lastHash: prev.toString('hex') } }], options.now);
    });
    segments.push({ fromSeq, toSeq, file });
    archived += entries.length;
  }
  return { tenantId, segments, archivedEntries: archived };
}
