/**
 * Locale-correct words, money, numbers and dates for rendered reports. Money arrives as decimal
 * strings (as stored) and is handed to Intl.NumberFormat as a string, which formats it exactly
 * instead of rounding through a float first.
 */
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../../errors/index.ts';
import type { MoneyFigure, ReportLocale } from '../report-model.ts';
import { reportTexts, type ReportText } from './report-texts.ts';

export type { ReportText } from './report-texts.ts';

/** The regional variant each report language is written in. */
const intlLocale: Readonly<Record<ReportLocale, string>> = { en: 'en-US', es: 'es-ES', de: 'de-DE' };

/** English readers get the month's name (10/2 is ambiguous abroad); Spanish and German write day.month.year. */
const dateParts: Readonly<Record<ReportLocale, Intl.DateTimeFormatOptions>> = {
  en: { year: 'numeric', month: 'short', day: 'numeric' },
  es: { year: 'numeric', month: 'numeric', day: 'numeric' },
  de: { year: 'numeric', month: 'numeric', day: 'numeric' },
};

export function reportText(locale: ReportLocale): ReportText {
  return reportTexts[locale];
}

export function intlLocaleOf(locale: ReportLocale): string {
  return intlLocale[locale];
}

const decimalPattern = /^-?\d+(\.\d+)?$/;
const Money = z.strictObject({
  value: z.custom<`${number}`>((v) => typeof v === 'string' && decimalPattern.test(v), 'a decimal number such as 1234.50'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as EUR'),
});

export function formatMoney(locale: ReportLocale, money: MoneyFigure): string {
  const parsed = Money.safeParse(money);
  if (!parsed.success) throw invalidInput('money', parsed.error.issues);
  // A string argument is formatted as an exact decimal (Intl.NumberFormat v3), never as a float.
  return new Intl.NumberFormat(intlLocale[locale], { style: 'currency', currency: parsed.data.currency }).format(parsed.data.value);
}

export function formatNumber(locale: ReportLocale, n: number): string {
  return new Intl.NumberFormat(intlLocale[locale], { maximumFractionDigits: 2 }).format(n);
}

/** A ratio (0.125) as a percentage with at most one decimal (12.5 %). */
export function formatPercent(locale: ReportLocale, ratio: number): string {
  return new Intl.NumberFormat(intlLocale[locale], { style: 'percent', maximumFractionDigits: 1 }).format(ratio);
}

const Instant = z.iso.datetime({ offset: true });

function instant(iso: string): Date {
  const parsed = Instant.safeParse(iso);
  if (!parsed.success) throw invalidInput('timestamp', parsed.error.issues);
  return new Date(parsed.data);
}

function dateTimeFormat(locale: ReportLocale, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(intlLocale[locale], { ...options, timeZone });
  } catch (error) {
    throw new LedgerlineError('LL_INVALID_INPUT', `unknown time zone ${timeZone}`, { cause: error, details: { field: 'timeZone' } });
  }
}

export function formatDate(locale: ReportLocale, timeZone: string, iso: string): string {
  return dateTimeFormat(locale, timeZone, dateParts[locale]).format(instant(iso));
}

export function formatDateTime(locale: ReportLocale, timeZone: string, iso: string): string {
  return dateTimeFormat(locale, timeZone, { ...dateParts[locale], hour: 'numeric', minute: '2-digit' }).format(instant(iso));
}

/**
 * A chart's x label: days (`2026-10-05`) and months (`2026-10`) as short local dates, anything
 * else (a kind, a segment name) as it is. The labels are calendar dates already in the report's
 * time zone, so they are formatted in UTC to keep the day.
 */
export function formatAxisLabel(locale: ReportLocale, label: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(label)) {
    return new Intl.DateTimeFormat(intlLocale[locale], { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${label}T00:00:00Z`));
  }
  if (/^\d{4}-\d{2}$/.test(label)) {
    return new Intl.DateTimeFormat(intlLocale[locale], { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${label}-01T00:00:00Z`));
  }
  return label;
}
