import { describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../../errors/index.ts';
import { reportLocales, reportMetrics, summaryTypes } from '../report-model.ts';
import { formatAxisLabel, formatDate, formatDateTime, formatMoney, formatNumber, formatPercent, reportText } from './i18n.ts';

/** Intl separates amount and currency sign with a no-break space. */
const nb = '\u00a0';

describe('report formatting per locale', () => {
  it('formats money with the currency the way each language writes it', () => {
    const eur = { value: '1234.50', currency: 'EUR' };
    expect(formatMoney('en', eur)).toBe('€1,234.50');
    expect(formatMoney('es', eur)).toBe(`1234,50${nb}€`);
    expect(formatMoney('de', eur)).toBe(`1.234,50${nb}€`);
    expect(formatMoney('en', { value: '-89.9', currency: 'USD' })).toBe('-$89.90');
    expect(formatMoney('es', { value: '-89.9', currency: 'USD' })).toBe(`-89,90${nb}US$`);
    expect(formatMoney('de', { value: '125000', currency: 'JPY' })).toBe(`125.000${nb}¥`);
    expect(formatMoney('en', { value: '125000', currency: 'JPY' })).toBe('¥125,000');
  });

  it('formats the stored decimal exactly, without a detour through floating point', () => {
    // As a float this value would print as 12,345,678,901,234,568.00.
    expect(formatMoney('en', { value: '12345678901234567.89', currency: 'EUR' })).toBe('€12,345,678,901,234,567.89');
    expect(formatMoney('de', { value: '0.105', currency: 'EUR' })).toBe(`0,11${nb}€`);
  });

  it('refuses money that is not a decimal string with an ISO currency', () => {
    for (const bad of [{ value: '1e5', currency: 'EUR' }, { value: '12,50', currency: 'EUR' }, { value: '10', currency: 'euro' }]) {
      let caught: unknown;
      try {
        formatMoney('en', bad);
      } catch (error) {
        caught = error;
      }
      expect(isLedgerlineError(caught, 'LL_INVALID_INPUT')).toBe(true);
    }
  });

  it('writes dates and times in the report time zone', () => {
    const at = '2026-10-02T14:05:00Z';
    expect(formatDate('en', 'Europe/Berlin', at)).toBe('Oct 2, 2026');
    expect(formatDate('es', 'Europe/Berlin', at)).toBe('2/10/2026');
    expect(formatDate('de', 'Europe/Berlin', at)).toBe('2.10.2026');
    expect(formatDateTime('en', 'Europe/Berlin', at)).toBe('Oct 2, 2026, 4:05 PM');
    expect(formatDateTime('es', 'Europe/Berlin', at)).toBe('2/10/2026, 16:05');
    expect(formatDateTime('de', 'Europe/Berlin', at)).toBe('2.10.2026, 16:05');
    // Two in the morning UTC is still the previous evening in New York.
    expect(formatDate('de', 'America/New_York', '2026-10-02T02:00:00Z')).toBe('1.10.2026');
  });

  it('rejects an unknown time zone and a malformed timestamp as invalid input', () => {
    expect(() => formatDate('en', 'Mars/Olympus_Mons', '2026-10-02T14:05:00Z')).toThrow(/unknown time zone/);
    expect(() => formatDate('en', 'UTC', 'yesterday')).toThrow(expect.objectContaining({ code: 'LL_INVALID_INPUT' }));
  });

  it('formats counts, percentages and chart axis labels', () => {
    expect(formatNumber('en', 1234567.891)).toBe('1,234,567.89');
    expect(formatNumber('es', 1234567.891)).toBe('1.234.567,89');
    expect(formatNumber('de', 1234567.891)).toBe('1.234.567,89');
    expect(formatPercent('en', 0.125)).toBe('12.5%');
    expect(formatPercent('es', 0.125)).toBe(`12,5${nb}%`);
    expect(formatPercent('de', 0.125)).toBe(`12,5${nb}%`);
    expect(formatAxisLabel('de', '2026-10-05')).toBe('5. Okt.');
    expect(formatAxisLabel('es', '2026-10')).toBe('oct 2026');
    expect(formatAxisLabel('en', 'login')).toBe('login');
  });

  it('has every label in every language, and different words in each', () => {
    for (const locale of reportLocales) {
      const t = reportText(locale);
      for (const summary of summaryTypes) expect(t.summaryTitles[summary]).toMatch(/\S/);
      for (const metric of reportMetrics) expect(t.metricNames[metric]).toMatch(/\S/);
      expect(t.weekdays).toHaveLength(7);
    }
    expect([reportText('en').noActivity, reportText('es').noActivity, reportText('de').noActivity]).toEqual([
      'No activity in this period',
      'Sin actividad en este periodo',
      'Keine Aktivität in diesem Zeitraum',
    ]);
    expect(reportText('de').generated('2.10.2026, 16:05')).toBe('Erstellt am 2.10.2026, 16:05');
    expect(reportText('es').activitiesTotal('1', true)).toBe('1 actividad');
    expect(reportText('es').activitiesTotal('2', false)).toBe('2 actividades');
  });
});
