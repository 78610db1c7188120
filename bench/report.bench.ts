/**
 * `npm run bench -- report [--month 2026-11] [--rounds 3] [--activities 1000000] [--accounts 10000] [--fresh] [--database-url URL]`
 *
 * The monthly account activity report (built-in template `account-activity`) over the large tenant
 * (bench/support/large-tenant.ts): collected with `collectReportData` — figures, summaries with
 * their personal fields opened, charts, top customers — and rendered to HTML, as a report run does.
 *
 * Baseline, same run and database: the same figures by hand-written SQL, nothing decrypted or
 * rendered (bench/support/report-figures-sql.ts). One untimed warm-up of each, then `rounds`
 * alternating rounds; medians compared. ratio = report time ÷ bare SQL time (target ≤ 2). The
 * report's own control totals are checked against the SQL's, so both computed the same thing.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { renderReport } from '../core/reports/render/index.ts';
import { collectReportData } from '../core/reports/report-data.ts';
import { ReportParameters, type ReportData } from '../core/reports/report-model.ts';
import { builtInTemplates } from '../core/reports/templates.ts';
import { largeTenantArgs, largeTenantKeyring, largeTenantOptions, openLargeTenant, type LargeTenant } from './support/large-tenant.ts';
import { reportFiguresBySql, type ReportFigures } from './support/report-figures-sql.ts';
import type { BenchResult } from './run.ts';

const say = (text: string): void => void process.stderr.write(`${text}\n`);

const ReportBenchOptions = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month: 2026-11'),
  rounds: z.coerce.number().int().min(1).max(9),
});

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface ReportRun {
  readonly ms: number;
  readonly data: ReportData;
  readonly htmlBytes: number;
  /** Milliseconds from each progress step to the next (the last one to the end of rendering). */
  readonly steps: Readonly<Record<string, number>>;
}

async function runReport(tenant: LargeTenant, month: string): Promise<ReportRun> {
  const template = builtInTemplates.find((t) => t.slug === 'account-activity');
  if (!template) throw new Error('the built-in template account-activity is missing');
  const marks: { step: string; at: number }[] = [];
  const start = performance.now();
  const data = await collectReportData(tenant.db.sql, largeTenantKeyring, {
    tenantId: tenant.tenantId,
    template,
    parameters: ReportParameters.parse({ period: month }),
    segments: () => Promise.resolve(null),
    onProgress: (step) => marks.push({ step, at: performance.now() }),
  });
  marks.push({ step: 'render html', at: performance.now() });
  const html = await renderReport(data, 'html', {});
  const end = performance.now();
  const steps: Record<string, number> = {};
  for (const [i, m] of marks.entries()) steps[m.step] = Math.round((marks[i + 1]?.at ?? end) - m.at);
  return { ms: end - start, data, htmlBytes: html.body.length, steps };
}

async function runSql(tenant: LargeTenant, from: Date, to: Date): Promise<{ ms: number; figures: ReportFigures }> {
  const start = performance.now();
  const figures = await reportFiguresBySql(tenant.db.sql, tenant.tenantId, from, to);
  return { ms: performance.now() - start, figures };
}

/** Where the report's control totals and the SQL's disagree (empty when they agree). */
function disagreements(data: ReportData, figures: ReportFigures): string[] {
  const sqlByKind = new Map<string, number>();
  for (const row of figures.byKindAndCategory) sqlByKind.set(row.kind, (sqlByKind.get(row.kind) ?? 0) + Number(row.n));
  const kinds = new Set([...sqlByKind.keys(), ...Object.keys(data.control.activitiesByKind)]);
  const out = [...kinds].filter((k) => (data.control.activitiesByKind[k] ?? 0) !== (sqlByKind.get(k) ?? 0)).map((k) => `${k}: report ${data.control.activitiesByKind[k] ?? 0}, SQL ${sqlByKind.get(k) ?? 0}`);
  for (const m of figures.money) {
    const reported = data.control.revenue.find((r) => r.currency === m.currency);
    // The report's control revenue is net of refunds.
    const net = (Math.round(Number(m.revenue) * 100) - Math.round(Number(m.refunds) * 100)) / 100;
    if (!reported || Number(reported.value) !== net) out.push(`net revenue ${m.currency}: report ${reported?.value ?? 'none'}, SQL ${net}`);
  }
  return out;
}

export async function run(argv: string[]): Promise<BenchResult> {
  const { values } = parseArgs({ args: argv, options: { ...largeTenantArgs, month: { type: 'string', default: '2026-11' }, rounds: { type: 'string', default: '3' } } });
  const options = ReportBenchOptions.parse(values);
  const tenant = await openLargeTenant(largeTenantOptions(values), say);
  try {
    const [year, month] = options.month.split('-').map(Number) as [number, number];
    const from = new Date(Date.UTC(year, month - 1, 1));
    const to = new Date(Date.UTC(year, month, 1));
    say(`report: account-activity for ${options.month}, ${options.rounds} rounds after a warm-up of each`);
    const warmReport = await runReport(tenant, options.month);
    const warmSql = await runSql(tenant, from, to);
    say(`  warm-up: report ${warmReport.ms.toFixed(0)} ms (${warmReport.htmlBytes.toLocaleString('en-US')} bytes of HTML), bare SQL ${warmSql.ms.toFixed(0)} ms`);
    const mismatch = disagreements(warmReport.data, warmSql.figures);
    if (mismatch.length > 0) say(`  the report and the SQL disagree: ${mismatch.join('; ')}`);

    const reports: ReportRun[] = [];
    const sqls: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      reports.push(await runReport(tenant, options.month));
      sqls.push((await runSql(tenant, from, to)).ms);
      say(`  round ${round}: report ${reports.at(-1)!.ms.toFixed(0)} ms, bare SQL ${sqls.at(-1)!.toFixed(0)} ms`);
    }
    const reportMs = median(reports.map((r) => r.ms));
    const sqlMs = median(sqls);
    const slowest = reports.find((r) => r.ms === reportMs) ?? reports[0]!;
    say(`  steps of the median report run (ms): ${JSON.stringify(slowest.steps)}`);
    const periodActivities = warmSql.figures.byKindAndCategory.reduce((n, r) => n + Number(r.n), 0);
    return {
      bench: 'report',
      metric: `ms to collect and render (HTML) the account-activity report for ${options.month}, median of ${options.rounds}`,
      value: Math.round(reportMs),
      baseline: 'ms of hand-written SQL computing the same figures (counts, money, customers, chart buckets, heat map, newest rows, top customers), no rendering, same run, median',
      baselineValue: Math.round(sqlMs),
      ratio: Number((reportMs / sqlMs).toFixed(2)),
      reportRuns: reports.map((r) => Math.round(r.ms)),
      sqlRuns: sqls.map((ms) => Math.round(ms)),
      steps: slowest.steps,
      figuresAgree: mismatch.length === 0,
      periodActivities,
      htmlBytes: warmReport.htmlBytes,
      activities: tenant.activities,
      accounts: tenant.accounts,
      reusedTenant: tenant.reused,
      database: tenant.database,
    };
  } finally {
    await tenant.db.close();
  }
}
