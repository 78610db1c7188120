/**
 * Acquisition spend, the numerator of CAC: what a tenant paid per day, channel and currency to win
 * customers, imported as CSV from an ad platform or finance export, or entered one line at a time
 * in the console. A line for the same day, channel and currency replaces the one stored. Every
 * import is all or nothing: each line is checked before anything is written, and a ledger entry
 * records who imported what, in the same transaction.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../errors/index.ts';
import { appendEntries } from '../ledger/ledger.ts';
import type { SqlSession } from '../store/sql-session.ts';
import { localDateTime } from './period.ts';

export interface SpendEntry {
  readonly spentOn: string;
  readonly channel: string;
  readonly currency: string;
  readonly amount: string;
}

export interface StoredSpend extends SpendEntry {
  readonly importedAt: Date;
  readonly importedBy: string;
}

const maxRows = 100_000;
const columns = ['date', 'channel', 'currency', 'amount'] as const;

const SpendLine = z.strictObject({
  spentOn: z.iso.date('a day as YYYY-MM-DD'),
  channel: z.string().trim().min(1, 'a channel name').max(100, 'at most 100 characters'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
  // numeric(20,4): up to 16 integer digits.
  amount: z.string().trim().regex(/^\d{1,16}(\.\d{1,4})?$/, 'a non-negative decimal with at most 4 fraction digits'),
});

const columnOfField: Record<keyof SpendEntry, (typeof columns)[number]> = { spentOn: 'date', channel: 'channel', currency: 'currency', amount: 'amount' };

/** A CSV record and the line it starts on (quoted fields may span lines). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/** RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks; CRLF or LF ends a record. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  const end = () => {
    fields.push(field);
    records.push({ line: start, fields });
    fields = [];
    field = '';
  };
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') {
        i++;
        line++;
      }
      end();
      start = line;
    } else field += c;
  }
  if (quoted) throw new LedgerlineError('LL_INVALID_INPUT', `line ${start}: a quoted field is not closed`, { details: { field: `line ${start}` } });
  if (field !== '' || fields.length > 0) end();
  return records;
}

function lineError(line: number, column: string, message: string): LedgerlineError {
  return new LedgerlineError('LL_INVALID_INPUT', `line ${line}, column ${column}: ${message}`, { details: { field: `line ${line}.${column}`, issues: [{ path: `${line}.${column}`, message }] } });
}

/** Validates every line of an import; the first bad one is reported with its line number and column. */
function spendLines(csv: string): SpendEntry[] {
  const records = parseCsv(csv).filter((r) => !(r.fields.length === 1 && r.fields[0]!.trim() === ''));
  const header = records.shift()?.fields.map((h) => h.trim().toLowerCase());
  if (!header) throw new LedgerlineError('LL_INVALID_INPUT', 'the CSV is empty: a header line date,channel,currency,amount comes first', { details: { field: 'line 1' } });
  for (const name of columns) if (!header.includes(name)) throw lineError(1, name, `the header names no '${name}' column (expected date,channel,currency,amount in any order)`);
  const unknown = header.find((h, i) => !(columns as readonly string[]).includes(h) || header.indexOf(h) !== i);
  if (unknown !== undefined) throw lineError(1, unknown || '(empty)', 'an unknown or repeated column');
  if (records.length > maxRows) throw new LedgerlineError('LL_INVALID_INPUT', `at most ${maxRows} lines per import (this one has ${records.length})`, { details: { field: 'csv' } });
  const index = Object.fromEntries(columns.map((c) => [c, header.indexOf(c)])) as Record<(typeof columns)[number], number>;
  return records.map(({ line, fields }) => {
    if (fields.length !== header.length) throw lineError(line, 'line', `${fields.length} fields where the header has ${header.length}`);
    return parseEntry({ spentOn: fields[index.date]?.trim(), channel: fields[index.channel], currency: fields[index.currency]?.trim(), amount: fields[index.amount] }, line);
  });
}

function parseEntry(input: unknown, line: number | null): SpendEntry {
  const parsed = SpendLine.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const column = columnOfField[issue.path[0] as keyof SpendEntry] ?? 'line';
  if (line !== null) throw lineError(line, column, issue.message);
  throw invalidInput('spend entry', parsed.error.issues);
}

type Totals = Record<string, string>;

/** Upserts lines and returns how many replaced a stored line, with totals per currency (decimal strings). */
async function upsert(tx: SqlSession, tenantId: string, lines: readonly SpendEntry[], by: string): Promise<{ replaced: number; totals: Totals }> {
  const rows = await tx.query<{ replaced: boolean }>(
    `insert into acquisition_spend as s (tenant_id, spent_on, channel, currency, amount, imported_by)
     select $1, d, c, k, a, $6 from unnest($2::date[], $3::text[], $4::text[], $5::numeric[]) as u(d, c, k, a)
     on conflict (tenant_id, spent_on, channel, currency) do update set amount = excluded.amount, imported_at = now(), imported_by = excluded.imported_by
     returning (xmax <> 0) as replaced`,
    [tenantId, lines.map((l) => l.spentOn), lines.map((l) => l.channel), lines.map((l) => l.currency), lines.map((l) => l.amount), by],
  );
  const [totals] = await tx.query<{ totals: Totals | null }>(
    `select jsonb_object_agg(k, t) as totals from (select k, trim_scale(sum(a))::text as t from unnest($1::text[], $2::numeric[]) as u(k, a) group by k) s`,
    [lines.map((l) => l.currency), lines.map((l) => l.amount)],
  );
  return { replaced: rows.filter((r) => r.replaced).length, totals: totals?.totals ?? {} };
}

function uniqueLines(lines: readonly SpendEntry[]): SpendEntry[] {
  // A file naming the same day, channel and currency twice: the later line wins, as a later import would.
  const byKey = new Map(lines.map((l) => [`${l.spentOn}\u0000${l.channel}\u0000${l.currency}`, l]));
  return [...byKey.values()];
}

export async function importSpendCsv(sql: SqlSession, tenantId: string, csv: string, by: string): Promise<{ rows: number; replaced: number }> {
  const lines = uniqueLines(spendLines(csv));
  if (lines.length === 0) throw new LedgerlineError('LL_INVALID_INPUT', 'the CSV has a header but no lines', { details: { field: 'line 2' } });
  const days = lines.map((l) => l.spentOn).sort();
  return sql.transaction(async (tx) => {
    const { replaced, totals } = await upsert(tx, tenantId, lines, by);
    await appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'spend.imported', body: { rows: lines.length, by, from: days[0]!, to: days.at(-1)!, totals } }]);
    return { rows: lines.length, replaced };
  });
}

export async function recordSpend(sql: SqlSession, tenantId: string, entry: SpendEntry, by: string): Promise<void> {
  const line = parseEntry(entry, null);
  await sql.transaction(async (tx) => {
    const { replaced } = await upsert(tx, tenantId, [line], by);
    await appendEntries((s, p) => tx.query(s, p), tenantId, [{ kind: 'spend.recorded', body: { ...line, amount: trimDecimal(line.amount), replaced: replaced > 0, by } }]);
  });
}

export async function listSpend(sql: Pick<SqlSession, 'query'>, tenantId: string, range: { readonly from?: Date; readonly to?: Date } = {}): Promise<StoredSpend[]> {
  const rows = await sql.query<{ spent_on: string; channel: string; currency: string; amount: string; imported_at: string; imported_by: string }>(
    `select to_char(spent_on, 'YYYY-MM-DD') as spent_on, channel, currency, trim_scale(amount)::text as amount, imported_at, imported_by
       from acquisition_spend
      where tenant_id = $1 and ($2::date is null or spent_on >= $2::date) and ($3::date is null or spent_on < $3::date)
      order by spent_on, channel, currency`,
    [tenantId, range.from ? dayOf(range.from) : null, range.to ? dayOf(range.to) : null],
  );
  return rows.map((r) => ({ spentOn: r.spent_on, channel: r.channel, currency: r.currency, amount: r.amount, importedAt: new Date(r.imported_at), importedBy: r.imported_by }));
}

/**
 * Spend per currency for a period. Spend is booked per calendar day, without a time of day, so the
 * bounds are compared as days: the local day `from` starts (inclusive) to the local day `to`
 * starts (exclusive) in `timeZone`; without a zone, the UTC day nearest to each bound (right for
 * local midnights of zones within ±12 hours of UTC).
 */
export async function spendInPeriod(sql: Pick<SqlSession, 'query'>, tenantId: string, from: Date, to: Date, timeZone?: string): Promise<{ currency: string; amount: number }[]> {
  const rows = await sql.query<{ currency: string; amount: string }>(
    `select currency, sum(amount)::text as amount from acquisition_spend
      where tenant_id = $1 and spent_on >= $2::date and spent_on < $3::date
      group by currency order by currency`,
    [tenantId, dayOf(from, timeZone), dayOf(to, timeZone)],
  );
  return rows.map((r) => ({ currency: r.currency, amount: Number(r.amount) }));
}

function dayOf(at: Date, timeZone?: string): string {
  if (timeZone === undefined) return new Date(Math.round(at.getTime() / 86_400_000) * 86_400_000).toISOString().slice(0, 10);
  const local = localDateTime(at, timeZone);
  return `${String(local.year).padStart(4, '0')}-${String(local.month).padStart(2, '0')}-${String(local.day).padStart(2, '0')}`;
}

function trimDecimal(value: string): string {
  return value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value;
}
