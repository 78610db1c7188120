import { describe, expect, it } from 'vitest';
import type { ReportData, ReportRow } from '../report-model.ts';
import { csvCell, renderReportCsv } from './csv.ts';
import { reportFixture } from './report-fixture.ts';

/** A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. Returns the tables split at empty lines. */
function readCsv(text: string): string[][][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' && field === '') {
      let j = i + 1;
      let quoted = '';
      let close = text.indexOf('"', j);
      while (text[close + 1] === '"') {
        quoted += `${text.slice(j, close)}"`;
        j = close + 2;
        close = text.indexOf('"', j);
      }
      field = quoted + text.slice(j, close);
      i = close + 1;
      continue;
    }
    if (c === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (c === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`bare CR at ${i}`);
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      if (c === '\n') throw new Error(`bare LF at ${i}`);
      field += c;
      i += 1;
    }
  }
  if (record.length > 0 || field !== '') throw new Error('the last record does not end with CRLF');
  const tables: string[][][] = [[]];
  for (const r of records) {
    if (r.length === 1 && r[0] === '') tables.push([]);
    else tables.at(-1)!.push(r);
  }
  return tables;
}

function tables(data: ReportData): Map<string, { header: string[]; rows: string[][] }> {
  const body = renderReportCsv(data);
  expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const parsed = readCsv(body.subarray(3).toString('utf8'));
  const byName = new Map<string, { header: string[]; rows: string[][] }>();
  for (const [header, ...rows] of parsed) {
    expect(header![0]).toBe('section');
    const names = new Set(rows.map((r) => r[0]));
    expect(names.size).toBeLessThanOrEqual(1);
    const name = [...names][0] ?? `(empty ${header!.join(',')})`;
    byName.set(byName.has(name) ? `${name} rows` : name, { header: header!, rows });
  }
  return byName;
}

describe('CSV report', () => {
  it('writes UTF-8 with a byte-order mark, CRLF records and one table per section', () => {
    const body = renderReportCsv(reportFixture());
    const text = body.toString('utf8');
    expect(text.startsWith('\uFEFFsection,field,value\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/\r(?!\n)/);
    const byName = tables(reportFixture());
    expect([...byName.keys()]).toEqual([
      'report', '1-kpis', '2-activity_over_time', '3-revenue_over_time', '4-activity_by_kind', '5-activity_heat_map',
      '6-transaction_history', '6-transaction_history rows', '7-login_history', '7-login_history rows', '8-interaction_log', '8-interaction_log rows',
      '9-security_alerts', '9-security_alerts rows', '10-profile_changes', '10-profile_changes rows', '11-notifications',
      '(empty section,occurred_at,platform,kind,category,customer,email,summary,actor,amount,currency,details)',
      '12-customers', '13-segment_comparison', '14-segment_share', '15-new_customers', '16-text', 'sources',
    ]);
    expect(byName.get('7-login_history rows')!.rows).toHaveLength(64);
    expect(byName.get('5-activity_heat_map')!.rows).toHaveLength(7 * 24);
  });

  it('keeps money machine-readable: the stored decimal and a currency column, never a localized amount', () => {
    const byName = tables(reportFixture({ locale: 'de' }));
    expect(byName.get('1-kpis')!.rows.filter((r) => r[1] === 'revenue')).toEqual([
      ['1-kpis', 'revenue', 'money', '1234.50', 'EUR'],
      ['1-kpis', 'revenue', 'money', '18250.00', 'USD'],
      ['1-kpis', 'revenue', 'money', '125000', 'JPY'],
    ]);
    expect(byName.get('1-kpis')!.rows.find((r) => r[1] === 'churn_rate')).toEqual(['1-kpis', 'churn_rate', 'ratio', '0.125', '']);
    const refund = byName.get('6-transaction_history rows')!.rows[1]!;
    expect(refund.slice(9, 11)).toEqual(['-89.90', 'EUR']);
    expect(refund[1]).toBe('2026-10-21T09:05:00.000Z');
    const customers = byName.get('12-customers')!;
    expect(customers.rows.map((r) => [r[3], r[8], r[9]])).toEqual([
      ['Liang Wei', '18250.00', 'USD'],
      ['Jane Doe', '1234.50', 'EUR'],
      ['Óscar Martínez', '-89.90', 'EUR'],
      ['Ruth Ackermann', '', ''],
    ]);
    expect(tables(reportFixture({ locale: 'de' })).get('report')!.rows.find((r) => r[1] === 'period_from')![2]).toBe('2026-09-30T22:00:00.000Z');
  });

  it('quotes commas, quotes and line breaks and reads back the same text', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(-12.5)).toBe('-12.5');
    const text = tables(reportFixture()).get('16-text')!.rows[0]![1];
    expect(text).toBe('Questions go to Tom Becker.\n\nFigures are in the source currencies; nothing is converted.');
    const details = tables(reportFixture()).get('7-login_history rows')!.rows[0]![11]!;
    expect(JSON.parse(details)).toEqual({ ip: '203.0.113.42', device: 'Firefox on Linux', location: 'Berlin, DE', failureReason: 'wrong password' });
  });

  it('defuses cells a spreadsheet would run as a formula, and leaves negative numbers alone', () => {
    for (const [input, output] of [
      ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
      ['+SUM(A1:A9)', "'+SUM(A1:A9)"],
      ['-2+3', "'-2+3"],
      ['@cmd', "'@cmd"],
      ['\tTAB', "'\tTAB"],
      ['\rCR', `"'\rCR"`],
      ['-89.90', '-89.90'],
      ['a=b', 'a=b'],
    ] as const) {
      expect(csvCell(input)).toBe(output);
    }
    const base = reportFixture();
    const row: ReportRow = { occurredAt: '2026-10-05T10:00:00.000Z', platform: 'zendesk', kind: 'interaction', category: 'ticket', summary: '=cmd|"/c calc"!A1', actor: '@agent', customer: { name: '+Mallory', email: null }, amount: { currency: 'EUR', value: '-5.00' }, details: {} };
    const data: ReportData = { ...base, sections: [{ type: 'summary', title: null, summary: 'interaction_log', filters: { categories: [], platforms: [] }, total: 1, byCategory: [], amounts: [], rows: [row], truncated: false }] };
    const read = tables(data).get('1-interaction_log rows')!.rows[0]!;
    expect([read[5], read[7], read[8], read[9]]).toEqual(["'+Mallory", `'=cmd|"/c calc"!A1`, "'@agent", '-5.00']);
  });
});
