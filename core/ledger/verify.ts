/**
 * Re-hashes a tenant's chain from its first entry and names the first entry that does not hold,
 * then holds the chain against the signed checkpoints written outside the database. Archived
 * segments are read from their files (each checked against its registered SHA-256) before the
 * entries still in the database.
 */
import type { KeyObject } from 'node:crypto';
import { archivedSegments, readSegment } from './archive.ts';
import { checkpointSignatureValid, readCheckpointFiles } from './checkpoints.ts';
import { entryHash, genesisHash, lastStoredSeq, readEntries, type LedgerEntry, type LedgerExecutor } from './ledger.ts';

export interface ChainBreak {
  /** The first entry that fails verification. */
  readonly seq: number;
  readonly reason: string;
}

export interface VerifyReport {
  readonly tenantId: string;
  readonly ok: boolean;
  /** Entries that verified before the first break (all of them when ok). */
  readonly verified: number;
  /** What the database's head row says, and what the chain ends at. */
  readonly headSeq: number;
  readonly lastSeq: number;
  readonly firstBreak: ChainBreak | null;
  readonly checkpoints: { readonly checked: number; readonly newestSeq: number | null; readonly problems: readonly string[] };
}

/** Checks one entry against the entry before it; null when it holds. */
export function checkEntry(entry: LedgerEntry, expectedSeq: number, prevHash: Buffer): ChainBreak | null {
  if (entry.seq !== expectedSeq) {
    return entry.seq > expectedSeq
      ? { seq: expectedSeq, reason: `entry ${expectedSeq} is missing (the chain jumps from ${expectedSeq - 1} to ${entry.seq})` }
      : { seq: entry.seq, reason: `entry ${entry.seq} appears out of order, after ${expectedSeq - 1}` };
  }
  if (!entry.prevHash.equals(prevHash)) {
    return { seq: entry.seq, reason: `entry ${entry.seq} does not follow entry ${entry.seq - 1}: its previous hash is not that entry's hash (something before it was inserted, removed or rewritten)` };
  }
  if (!entryHash(prevHash, entry).equals(entry.hash)) {
    return { seq: entry.seq, reason: `entry ${entry.seq} was altered: its content does not match its hash` };
  }
  return null;
}

/** Verifies entries already in memory (the property tests and the CLI share this with the database walk). */
export function verifyEntries(entries: readonly LedgerEntry[]): { verified: number; firstBreak: ChainBreak | null; hashes: Map<number, string> } {
  let prev = genesisHash;
  const hashes = new Map<number, string>();
  for (let i = 0; i < entries.length; i++) {
    const broken = checkEntry(entries[i]!, i + 1, prev);
    if (broken) return { verified: i, firstBreak: broken, hashes };
    prev = entries[i]!.hash;
    hashes.set(i + 1, prev.toString('hex'));
  }
  return { verified: entries.length, firstBreak: null, hashes };
}

export interface VerifyOptions {
  readonly checkpointDir?: string;
  /** Where archived segments are read from (see archive.ts). */
  readonly archiveDir?: string;
  readonly publicKey?: KeyObject;
  /** Entries read per query. */
  readonly batchSize?: number;
  /** Called with each verified entry's sequence number and hash (for checkpoint comparison). */
  readonly onProgress?: (verified: number) => void;
}

export async function verifyChain(exec: LedgerExecutor, tenantId: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const batchSize = options.batchSize ?? 5000;
  const [head] = await exec(`select seq::text as seq from ledger_head where tenant_id = $1`, [tenantId]);
  const headSeq = head ? Number(head.seq) : 0;
  const files = options.checkpointDir ? readCheckpointFiles(options.checkpointDir, tenantId) : [];
  // Checkpoint hashes by sequence number, compared as the walk passes them.
  const wanted = new Map(files.flatMap((f) => (f.checkpoint ? [[f.seq, f] as const] : [])));
  const problems: string[] = files.filter((f) => f.problem).map((f) => `${f.file}: ${f.problem}`);
  for (const f of files) {
    if (f.checkpoint && options.publicKey && !checkpointSignatureValid(f.checkpoint, options.publicKey)) {
      problems.push(`${f.file}: the signature does not verify with this Ledgerline's checkpoint key`);
      wanted.delete(f.seq);
    }
  }
  let firstBreak: ChainBreak | null = null;
  let verified = 0;
  let prev = genesisHash;
  let lastSeq = 0;
  let lastGoodCheckpoint = 0;
  /** Takes the next entry of the walk (archived or stored); the break when it does not hold. */
  const take = (entry: LedgerEntry): ChainBreak | null => {
    const broken = checkEntry(entry, verified + 1, prev);
    if (broken) return broken;
    prev = entry.hash;
    verified += 1;
    lastSeq = entry.seq;
    const checkpoint = wanted.get(entry.seq)?.checkpoint;
    if (checkpoint) {
      if (checkpoint.hash !== entry.hash.toString('hex')) {
        // The chain is consistent in itself but not with what was signed: rewritten and re-hashed.
        const from = lastGoodCheckpoint + 1;
        verified = lastGoodCheckpoint;
        return { seq: from, reason: `entries ${from}–${entry.seq} were rewritten: the checkpoint signed at ${checkpoint.at} holds another hash for entry ${entry.seq}` };
      }
      lastGoodCheckpoint = entry.seq;
    }
    return null;
  };

  // Archived segments first: each file must be the one registered, and chain on from the last.
  const segments = await archivedSegments(exec, tenantId);
  archive: for (const segment of segments) {
    if (!options.archiveDir) {
      firstBreak = { seq: segment.fromSeq, reason: `entries ${segment.fromSeq}–${segment.toSeq} are archived, and no archive directory was given to read them from (LEDGERLINE_LEDGER_ARCHIVE_DIR)` };
      break;
    }
    let entries: LedgerEntry[];
    try {
      entries = readSegment(options.archiveDir, tenantId, segment);
    } catch (error) {
      firstBreak = { seq: segment.fromSeq, reason: error instanceof Error ? error.message : String(error) };
      break;
    }
    for (const entry of entries) {
      firstBreak = take(entry);
      if (firstBreak) break archive;
    }
    if (verified !== segment.toSeq || !prev.equals(segment.lastHash)) {
      firstBreak = { seq: verified + 1, reason: `archived entries ${segment.fromSeq}–${segment.toSeq}: the segment ends at entry ${verified}, not where its registration says` };
      break;
    }
    options.onProgress?.(verified);
  }

  const storedUpTo = firstBreak ? 0 : await lastStoredSeq(exec, tenantId);
  const start = verified;
  // The next range is read while this one is hashed: the database and the hashing overlap.
  let next = storedUpTo > start ? readEntries(exec, tenantId, start, batchSize) : null;
  walk: for (let after = start; after < storedUpTo; after += batchSize) {
    const batch = await next!;
    next = after + batchSize < storedUpTo ? readEntries(exec, tenantId, after + batchSize, batchSize) : null;
    for (const entry of batch) {
      firstBreak = take(entry);
      if (firstBreak) break walk;
    }
    // A range that ends short of its end inside the stored span: the next number is missing.
    if (verified < Math.min(after + batchSize, storedUpTo)) {
      firstBreak = { seq: verified + 1, reason: `entry ${verified + 1} is missing (the chain jumps from ${verified} to a later entry)` };
      break;
    }
    options.onProgress?.(verified);
  }
  // A read started for a range the walk did not reach is awaited, so nothing is left running.
  await next?.catch(() => undefined);
  if (!firstBreak) {
    const beyond = [...wanted.values()].filter((f) => f.seq > lastSeq).sort((a, b) => a.seq - b.seq)[0];
    if (beyond?.checkpoint) {
      firstBreak = { seq: lastSeq + 1, reason: `entries ${lastSeq + 1}–${beyond.seq} (at least) were removed: the chain ends at ${lastSeq}, but the checkpoint signed at ${beyond.checkpoint.at} saw entry ${beyond.seq}` };
    } else if (headSeq > lastSeq) {
      firstBreak = { seq: lastSeq + 1, reason: `entries ${lastSeq + 1}–${headSeq} are missing: the chain ends at ${lastSeq}, but the head says ${headSeq}` };
    }
  }
  const newest = files.at(-1);
  return {
    tenantId,
    ok: firstBreak === null && problems.length === 0,
    verified,
    headSeq,
    lastSeq,
    firstBreak,
    checkpoints: { checked: wanted.size, newestSeq: newest?.seq ?? null, problems },
  };
}
