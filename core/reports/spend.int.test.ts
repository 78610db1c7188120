/**
 * Acquisition spend: CSV imports (any column order, quoting, BOM and CRLF), replacement of the same
 * day/channel/currency, all-or-nothing refusal naming the line and column, the ledger entries, and
 * the per-period sums CAC divides.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../test/support/database.ts';
import { LedgerlineError } from '../errors/index.ts';
import { resolvePeriod } from './period.ts';
import { importSpendCsv, listSpend, parseCsv, recordSpend, spendInPeriod } from './spend.ts';

async function refusal(work: Promise<unknown>): Promise<{ code: string; message: string; field: string | undefined }> {
  try {
    await work;
  } catch (error) {
    if (error instanceof LedgerlineError) return { code: error.code, message: error.message, field: error.details.field };
    throw error;
  }
  throw new Error('expected a refusal');
}

it('parses RFC 4180 quoting with the line each record starts on', () => {
  expect(parseCsv('\uFEFFa,b\r\n"x, ""y""","multi\nline"\r\nz,\n')).toEqual([
    { line: 1, fields: ['a', 'b'] },
    { line: 2, fields: ['x, "y"', 'multi\nline'] },
    { line: 4, fields: ['z', ''] },
  ]);
});

describeOnTestDatabases('acquisition spend', (db) => {
  const ledger = async (tenantId: string) =>
    db().sql.query<{ kind: string; body: Record<string, unknown> }>(`select kind, body from ledger_entry where tenant_id = $1 order by seq`, [tenantId]);

  it('imports a CSV in any column order, with quoting, a BOM and CRLF, and records the import in the ledger', async () => {
    const { tenantId } = await seedInstallation(db());
    const csv = '\uFEFFchannel,amount,date,currency\r\n"Search, brand",120.50,2026-10-01,EUR\r\nSocial,80,2026-10-02,EUR\r\n"Search, brand",10.1234,2026-10-31,USD\r\n';
    expect(await importSpendCsv(db().sql, tenantId, csv, 'ana@ledgerline.test')).toEqual({ rows: 3, replaced: 0 });
    expect((await listSpend(db().sql, tenantId)).map(({ importedAt: _at, ...rest }) => rest)).toEqual([
      { spentOn: '2026-10-01', channel: 'Search, brand', currency: 'EUR', amount: '120.5', importedBy: 'ana@ledgerline.test' },
      { spentOn: '2026-10-02', channel: 'Social', currency: 'EUR', amount: '80', importedBy: 'ana@ledgerline.test' },
      { spentOn: '2026-10-31', channel: 'Search, brand', currency: 'USD', amount: '10.1234', importedBy: 'ana@ledgerline.test' },
    ]);
    expect(await ledger(tenantId)).toEqual([
      { kind: 'spend.imported', body: { rows: 3, by: 'ana@ledgerline.test', from: '2026-10-01', to: '2026-10-31', totals: { EUR: '200.5', USD: '10.1234' } } },
    ]);
  });

  it('replaces the stored line of the same day, channel and currency, and counts the replacement', async () => {
    const { tenantId } = await seedInstallation(db());
    await importSpendCsv(db().sql, tenantId, 'date,channel,currency,amount\n2026-10-01,Social,EUR,50\n2026-10-01,Social,USD,5\n', 'ana');
    expect(await importSpendCsv(db().sql, tenantId, 'date,channel,currency,amount\n2026-10-01,Social,EUR,70\n2026-10-02,Social,EUR,1\n', 'ben')).toEqual({ rows: 2, replaced: 1 });
    expect((await listSpend(db().sql, tenantId)).map((s) => [s.spentOn, s.currency, s.amount, s.importedBy])).toEqual([
      ['2026-10-01', 'EUR', '70', 'ben'],
      ['2026-10-01', 'USD', '5', 'ana'],
      ['2026-10-02', 'EUR', '1', 'ben'],
    ]);
  });

  it.each([
    ['date,channel,currency,amount\n2026-10-01,Social,EUR,10\n2026-10-32,Social,EUR,10\n', 'line 3, column date'],
    ['date,channel,currency,amount\n2026-10-01,Social,eur,10\n', 'line 2, column currency'],
    ['date,channel,currency,amount\n2026-10-01,Social,EUR,-10\n', 'line 2, column amount'],
    ['date,channel,currency,amount\n2026-10-01,Social,EUR,1.23456\n', 'line 2, column amount'],
    ['date,channel,currency,amount\n2026-10-01,,EUR,1\n', 'line 2, column channel'],
    [`date,channel,currency,amount\n2026-10-01,${'x'.repeat(101)},EUR,1\n`, 'line 2, column channel'],
    ['date,channel,currency,amount\n2026-10-01,Social,EUR\n', 'line 2, column line'],
    ['date,channel,amount\n2026-10-01,Social,1\n', 'line 1, column currency'],
    ['date,channel,currency,amount,notes\n2026-10-01,Social,EUR,1,x\n', 'line 1, column notes'],
    ['2026-10-01,Social,EUR,1\n', 'line 1, column date'],
    ['date,channel,currency,amount\n\n2026-10-01,"Social,EUR,1\n', 'line 3'],
  ])('refuses %j naming %s, and writes nothing', async (csv, where) => {
    const { tenantId } = await seedInstallation(db());
    const error = await refusal(importSpendCsv(db().sql, tenantId, csv, 'ana'));
    expect(error.code).toBe('LL_INVALID_INPUT');
    expect(error.message).toContain(where);
    expect(await listSpend(db().sql, tenantId)).toEqual([]);
    expect(await ledger(tenantId)).toEqual([]);
  });

  it('refuses an import of more than 100,000 lines before writing', async () => {
    const { tenantId } = await seedInstallation(db());
    const csv = `date,channel,currency,amount\n${'2026-10-01,Social,EUR,1\n'.repeat(100_001)}`;
    expect(await refusal(importSpendCsv(db().sql, tenantId, csv, 'ana'))).toMatchObject({ code: 'LL_INVALID_INPUT', field: 'csv' });
  });

  it('records one console entry with the same validation and its own ledger entry', async () => {
    const { tenantId } = await seedInstallation(db());
    await recordSpend(db().sql, tenantId, { spentOn: '2026-10-03', channel: 'Events', currency: 'EUR', amount: '300.00' }, 'ana');
    await recordSpend(db().sql, tenantId, { spentOn: '2026-10-03', channel: 'Events', currency: 'EUR', amount: '250' }, 'ben');
    expect((await listSpend(db().sql, tenantId)).map((s) => s.amount)).toEqual(['250']);
    expect((await ledger(tenantId)).map((e) => [e.kind, e.body.amount, e.body.replaced, e.body.by])).toEqual([
      ['spend.recorded', '300', false, 'ana'],
      ['spend.recorded', '250', true, 'ben'],
    ]);
    expect(await refusal(recordSpend(db().sql, tenantId, { spentOn: '3 Oct', channel: 'Events', currency: 'EUR', amount: '1' }, 'ana'))).toMatchObject({ code: 'LL_INVALID_INPUT', field: 'spentOn' });
  });

  it('sums spend per currency over a period by local days, and lists a date range', async () => {
    const { tenantId } = await seedInstallation(db());
    await importSpendCsv(
      db().sql,
      tenantId,
      'date,channel,currency,amount\n2026-09-30,Social,EUR,1000\n2026-10-01,Social,EUR,100\n2026-10-31,Search,EUR,20.5\n2026-10-15,Search,USD,7\n2026-11-01,Social,EUR,3000\n',
      'ana',
    );
    // October in Auckland (UTC+13 at its start) begins on 2026-09-30 in UTC, yet it is October's days that count.
    const auckland = resolvePeriod('2026-10', 'Pacific/Auckland');
    const expected = [
      { currency: 'EUR', amount: 120.5 },
      { currency: 'USD', amount: 7 },
    ];
    expect(await spendInPeriod(db().sql, tenantId, auckland.from, auckland.to, 'Pacific/Auckland')).toEqual(expected);
    const berlin = resolvePeriod('2026-10', 'Europe/Berlin');
    expect(await spendInPeriod(db().sql, tenantId, berlin.from, berlin.to)).toEqual(expected);
    expect((await listSpend(db().sql, tenantId, { from: berlin.from, to: berlin.to })).map((s) => s.spentOn)).toEqual(['2026-10-01', '2026-10-15', '2026-10-31']);
    const { tenantId: other } = await seedInstallation(db());
    expect(await spendInPeriod(db().sql, other, berlin.from, berlin.to)).toEqual([]);
  });
});
