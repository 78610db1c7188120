/**
 * validate → map for one page of raw platform objects. Pure: the runner and the webhook path both
 * turn its output into one store batch. A record that fails validation or mapping is rejected with
 * its payload and the reason, never dropped silently.
 */
import type { DeletedRecord, AnyStream } from '../contract/index.ts';
import { MappedRecords, type ActivityRecord, type SourceRecordInput } from '../model/index.ts';

export interface RejectedRecord {
  readonly externalId: string | null;
  readonly problem: 'invalid_raw' | 'mapper_failed' | 'invalid_canonical' | 'not_an_object';
  readonly message: string;
  readonly payload: unknown;
}

export interface PreparedRecord {
  readonly source: SourceRecordInput;
  readonly mapped: MappedRecords;
}

export interface PreparedPage {
  readonly records: readonly PreparedRecord[];
  readonly activities: readonly ActivityRecord[];
  readonly deleted: readonly DeletedRecord[];
  readonly rejected: readonly RejectedRecord[];
}

function guessId(raw: unknown): string | null {
  if (raw !== null && typeof raw === 'object' && 'id' in raw) {
    const id = (raw).id;
    if (typeof id === 'string' || typeof id === 'number') return String(id);
  }
  return null;
}

function firstIssue(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const issue = issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Validates and maps raw records of one stream. Records keep the platform's payload as sent. */
export function prepareRecords(
  stream: AnyStream,
  raws: readonly unknown[],
  deleted: readonly DeletedRecord[] = [],
): PreparedPage {
  const records: PreparedRecord[] = [];
  const activities: ActivityRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const raw of raws) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      rejected.push({ externalId: null, problem: 'not_an_object', message: 'a record must be a JSON object', payload: raw });
      continue;
    }
    const parsed = stream.raw.safeParse(raw);
    if (!parsed.success) {
      rejected.push({ externalId: guessId(raw), problem: 'invalid_raw', message: firstIssue(parsed.error.issues), payload: raw });
      continue;
    }
    const { externalId, updatedAt } = stream.identify(parsed.data);
    let mappedInput: unknown;
    try {
      mappedInput = stream.map(parsed.data);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      rejected.push({ externalId, problem: 'mapper_failed', message, payload: raw });
      continue;
    }
    const mapped = MappedRecords.safeParse(mappedInput);
    if (!mapped.success) {
      rejected.push({ externalId, problem: 'invalid_canonical', message: firstIssue(mapped.error.issues), payload: raw });
      continue;
    }
    records.push({
      source: {
        objectType: stream.objectType,
        externalId,
        updatedAt,
        // The payload as the platform sent it, not the parsed subset: nothing is lost.
        payload: raw as Record<string, unknown>,
        deletedAt: null,
      },
      mapped: mapped.data,
    });
    activities.push(...mapped.data.activities);
  }
  return { records, activities, deleted, rejected };
}
