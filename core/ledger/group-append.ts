/**
 * Group commit for ledger appends that many requests make at once (every panel view is one).
 * Appends for one tenant that arrive while that tenant's previous group is being committed wait
 * and go together in the next transaction, so the tenant's head row is locked once per group
 * instead of once per caller, and callers do not hold pooled connections while queueing on the
 * row lock. Each caller's promise settles only when its own entry has committed (or its group's
 * transaction failed), so nothing is answered before it is on the ledger.
 *
 * Entries are checked (kind, JSON body) when they are handed in, so an entry the ledger would
 * refuse fails its own caller at once and never the group it would have joined.
 *
 * After its first group the appender knows the head it left; while nobody else has appended since,
 * the next group goes in as one statement after that head (`appendEntriesAfter`: one round trip,
 * no transaction to open, a named prepared statement planned once per connection), and otherwise
 * under the head's lock as before.
 */
import type { SqlSession } from '../store/index.ts';
import { createBatcher } from '../store/batcher.ts';
import { appendEntries, appendEntriesAfter, checkEntryInput, type LedgerEntry, type LedgerEntryInput } from './ledger.ts';

export interface GroupAppender {
  /** Appends one entry to the tenant's chain; resolves with it as committed. */
  append(tenantId: string, input: LedgerEntryInput): Promise<LedgerEntry>;
}

export interface GroupAppenderOptions {
  /** Most entries one transaction appends (default 500). */
  readonly maxGroup?: number;
  readonly now?: () => Date;
}

export function createGroupAppender(sql: SqlSession, options: GroupAppenderOptions = {}): GroupAppender {
  const maxGroup = options.maxGroup ?? 500;
  /** Each tenant's appends, one group in flight at a time (its head row is what they queue for). */
  const groups = new Map<string, (input: LedgerEntryInput) => Promise<LedgerEntry>>();

  /** The head each tenant's last group left, while this appender may still be the last to have appended. */
  const heads = new Map<string, { seq: number; hash: Buffer }>();

  async function commit(tenantId: string, inputs: readonly LedgerEntryInput[]): Promise<LedgerEntry[]> {
    try {
      const at = options.now?.() ?? new Date();
      const head = heads.get(tenantId);
      const entries =
        (head ? await appendEntriesAfter((text, params) => sql.query(text, params, { prepared: true }), tenantId, head, inputs, at) : null) ??
        (await sql.transaction((tx) => appendEntries((text, params) => tx.query(text, params), tenantId, inputs, at)));
      const last = entries.at(-1)!;
      heads.set(tenantId, { seq: last.seq, hash: last.hash });
      return entries;
    } catch (error) {
      heads.delete(tenantId);
      throw error;
    }
  }

  return {
    async append(tenantId, input) {
      checkEntryInput(input);
      let group = groups.get(tenantId);
      if (!group) {
        group = createBatcher((inputs: readonly LedgerEntryInput[]) => commit(tenantId, inputs), { inFlight: 1, maxBatch: maxGroup });
        groups.set(tenantId, group);
      }
      return group(input);
    },
  };
}
