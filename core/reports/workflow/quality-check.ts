/**
 * The quality check a report passes before anyone receives it: every source fresh, no stream with
 * a gap, and the sections' figures reconciled with the independent control totals collected in the
 * same run. A report that fails is blocked (an admin may override after reviewing it), never sent
 * with numbers nobody can vouch for.
 */
import { summaryTypeKind, type MoneyFigure, type ReportData, type SectionData } from '../report-model.ts';

export type QualityReasonCode = 'stale_source' | 'sync_gap' | 'totals_mismatch';

export interface QualityReason {
  readonly code: QualityReasonCode;
  readonly message: string;
}

export interface QualityResult {
  readonly passed: boolean;
  readonly reasons: readonly QualityReason[];
}

type SummarySection = Extract<SectionData, { type: 'summary' }>;

const hourMs = 3_600_000;
// Money is compared exactly: decimal strings scaled to integers, never floats.
const moneyScale = 10;

export function qualityCheck(data: ReportData, now: Date): QualityResult {
  const reasons = [...freshnessReasons(data, now), ...gapReasons(data), ...totalsReasons(data)];
  return { passed: reasons.length === 0, reasons };
}

function sourceName(source: ReportData['sources'][number]): string {
  return `${source.platform} (${source.accountName})`;
}

function freshnessReasons(data: ReportData, now: Date): QualityReason[] {
  return data.sources.flatMap((source): QualityReason[] => {
    if (source.lastSyncedAt === null) {
      return [{ code: 'stale_source', message: `${sourceName(source)} has never completed a sync` }];
    }
    const ageHours = (now.getTime() - Date.parse(source.lastSyncedAt)) / hourMs;
    if (!(ageHours > data.freshnessHours)) return [];
    return [{ code: 'stale_source', message: `${sourceName(source)} last synced at ${source.lastSyncedAt}, ${Math.floor(ageHours)} hours ago; this report needs data at most ${data.freshnessHours} hours old` }];
  });
}

function gapReasons(data: ReportData): QualityReason[] {
  return data.sources.flatMap((source) =>
    source.gaps.map((gap) => ({
      code: 'sync_gap' as const,
      message: `${sourceName(source)} stream ${gap.stream} is ${gap.status} since ${gap.since ?? 'its first run'}: ${gap.reason ?? 'no reason recorded'}`,
    })),
  );
}

/** A filtered section shows part of its kind, so it is only held to "not more than the control". */
function declaredFilters(section: SummarySection): 'none' | 'some' {
  return section.filters.categories.length === 0 && section.filters.platforms.length === 0 ? 'none' : 'some';
}

function totalsReasons(data: ReportData): QualityReason[] {
  const reasons: QualityReason[] = [];
  const control = data.control.activitiesByKind;
  const allActivities = Object.values(control).reduce((sum, n) => sum + n, 0);
  for (const section of data.sections) {
    if (section.type === 'kpis') {
      const activities = section.metrics.find((m) => m.metric === 'activities');
      if (activities && activities.kind === 'count' && activities.value !== null && activities.value !== allActivities) {
        reasons.push({ code: 'totals_mismatch', message: `the activities figure shows ${activities.value}, the control count is ${allActivities}` });
      }
      continue;
    }
    if (section.type !== 'summary') continue;
    const kind = summaryTypeKind[section.summary];
    const expected = control[kind] ?? 0;
    const filters = declaredFilters(section);
    // The periodic summary reads `custom` activities and may also show the totals of all kinds.
    const acceptable = section.summary === 'periodic_summary' ? [expected, allActivities] : [expected];
    if (filters === 'none' && !acceptable.includes(section.total)) {
      reasons.push({ code: 'totals_mismatch', message: `the ${section.summary} section counts ${section.total} ${kind} activities, the control count is ${expected}` });
    } else if (filters !== 'none' && section.total > Math.max(...acceptable)) {
      reasons.push({ code: 'totals_mismatch', message: `the ${section.summary} section counts ${section.total} ${kind} activities, more than the ${expected} the control counts` });
    }
    if (section.summary === 'transaction_history' && filters === 'none') {
      const mismatch = moneyMismatch(section.amounts, data.control.transactionAmounts);
      if (mismatch) reasons.push({ code: 'totals_mismatch', message: `the transaction section shows ${mismatch.shown} ${mismatch.currency}, the control total is ${mismatch.control} ${mismatch.currency}` });
    }
  }
  return reasons;
}

/** A decimal string as an integer of `moneyScale` fraction digits; null when it is not a decimal. */
function decimalUnits(value: string): bigint | null {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(value.trim());
  if (!match) return null;
  const scaled = BigInt(`${match[2]}${(match[3] ?? '').padEnd(moneyScale, '0').slice(0, moneyScale)}`);
  return match[1] ? -scaled : scaled;
}

const orZero = (value: bigint | null | undefined): bigint | null => (value === undefined ? 0n : value);

/** Totals per currency; an unreadable amount makes the whole currency unreadable (null). */
function totalsByCurrency(figures: readonly MoneyFigure[]): Map<string, bigint | null> {
  const totals = new Map<string, bigint | null>();
  for (const figure of figures) {
    const value = decimalUnits(figure.value);
    const sum = orZero(totals.get(figure.currency));
    totals.set(figure.currency, value === null || sum === null ? null : sum + value);
  }
  return totals;
}

function formatUnits(value: bigint | null): string {
  if (value === null) return 'an unreadable amount';
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(moneyScale + 1, '0');
  const whole = digits.slice(0, -moneyScale);
  const fraction = digits.slice(-moneyScale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

function moneyMismatch(shown: readonly MoneyFigure[], control: readonly MoneyFigure[]): { currency: string; shown: string; control: string } | null {
  const a = totalsByCurrency(shown);
  const b = totalsByCurrency(control);
  for (const currency of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const left = orZero(a.get(currency));
    const right = orZero(b.get(currency));
    if (left === null || right === null || left !== right) return { currency, shown: formatUnits(left), control: formatUnits(right) };
  }
  return null;
}
