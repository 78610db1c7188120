/**
 * What the `ledgerline report` subcommands share: the flags, the context an action runs in, and
 * the small helpers that turn bad words and flags into usage errors naming the flag.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { invalidInput, isLedgerlineError, LedgerlineError, toLedgerlineError } from '../errors/index.ts';
import {
  deliveryMethods,
  isTimeZone,
  PeriodText,
  reportFormats,
  reportLocales,
  reportMetrics,
  reportRoles,
  requestStatuses,
  resolvePeriod,
  type ReportParameters,
  type ReportsService,
} from '../reports/index.ts';
import type { TenantView } from '../store/index.ts';
import { TenantSlugArg } from './tenant-arg.ts';

export const Slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a slug: lower-case letters, digits and dashes, starting with a letter');

export const Args = z.strictObject({
  tenant: TenantSlugArg.optional(),
  period: PeriodText.optional(),
  segment: Slug.optional(),
  metrics: z.string().transform((text) => text.split(',').map((m) => m.trim())).pipe(z.array(z.enum(reportMetrics)).min(1)).optional(),
  format: z.enum(reportFormats).optional(),
  locale: z.enum(reportLocales).optional(),
  tz: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
  role: z.enum(reportRoles).optional(),
  out: z.string().min(1).optional(),
  file: z.string().min(1).optional(),
  recipient: z.email('must be an e-mail address').optional(),
  delivery: z.enum(deliveryMethods).optional(),
  code: z.boolean().optional(),
  status: z.enum(requestStatuses).optional(),
  reason: z.string().trim().min(1).max(1000).optional(),
  template: Slug.optional(),
  cadence: z.enum(['daily', 'weekly', 'monthly']).optional(),
  at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time as HH:MM').optional(),
  weekday: z.coerce.number().int().min(1).max(7, 'must be 1 (Monday) to 7 (Sunday)').optional(),
  day: z.coerce.number().int().min(1).max(28, 'must be a day of the month, 1 to 28').optional(),
  json: z.boolean().optional(),
});
export type Args = z.infer<typeof Args>;

export interface Context {
  readonly args: Args;
  readonly reports: ReportsService;
  /** Null only when no tenant exists yet (then only the built-in library can be listed). */
  readonly tenant: TenantView | null;
  readonly by: string;
}
export type Action = (ctx: Context) => Promise<number>;

export const usageError = (flag: string, message: string): LedgerlineError => invalidInput('arguments', [{ path: [flag], message }]);

export function required<T>(value: T | undefined, flag: string, why: string): T {
  if (value === undefined) throw usageError(flag, why);
  return value;
}

export function tenantOf(ctx: Context): TenantView {
  if (!ctx.tenant) throw new LedgerlineError('LL_NOT_FOUND', 'there is no tenant yet: install Ledgerline on a platform first');
  return ctx.tenant;
}

/** Prints the line once the awaited change has happened (its result is already shown in the line). */
export const done = (_changed: unknown, line: string): number => {
  console.log(line);
  return 0;
};

export const print = (ctx: Context, value: unknown, lines: () => readonly string[]): number => {
  console.log(ctx.args.json ? JSON.stringify(value, null, 2) : lines().join('\n'));
  return 0;
};

/** The run parameters from the flags; the period is resolved now so a bad one stops before anything opens. */
export function parametersFrom(args: Args): ReportParameters {
  const period = required(args.period, '--period', 'give the period, e.g. 2026-10, 2026-W40 or 2026-10-01..2026-10-15');
  const timeZone = args.tz ?? 'UTC';
  try {
    resolvePeriod(period, timeZone);
  } catch (error) {
    throw isLedgerlineError(error, 'LL_INVALID_INPUT') ? usageError('--period', error.message) : error;
  }
  return { period, timeZone, locale: args.locale ?? 'en', role: args.role ?? 'admin', ...(args.segment ? { segment: args.segment } : {}), ...(args.metrics ? { metrics: args.metrics } : {}) };
}

export async function readInput(path: string | undefined, flag: string): Promise<string> {
  try {
    return await readFile(required(path, flag, 'give the file to read'), 'utf8');
  } catch (error) {
    throw isLedgerlineError(error) ? error : usageError(flag, `cannot read ${path}: ${(error as Error).message}`);
  }
}

export async function readJson(path: string | undefined): Promise<unknown> {
  const text = await readInput(path, '--file');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError('--file', `${path} is not JSON: ${(error as Error).message}`);
  }
}

/** Validation errors of the workflow named by the flag that carries the field. */
const flagOfField: Readonly<Record<string, string>> = { templateSlug: 'template', timeZone: 'tz', localTime: 'at', dayOfMonth: 'day', requireCode: 'code', recipient: 'recipient', delivery: 'delivery', format: 'format', cadence: 'cadence', weekday: 'weekday', period: 'period', segment: 'segment', metrics: 'metrics', locale: 'locale', role: 'role' };
export function asFlagError(thrown: unknown): LedgerlineError {
  const error = toLedgerlineError(thrown);
  if (error.code !== 'LL_INVALID_INPUT' || !error.details.issues) return error;
  return invalidInput('arguments', error.details.issues.map((i) => {
    const field = i.path.split('.').find((part) => part in flagOfField);
    return { path: [field ? `--${flagOfField[field]}` : i.path], message: i.message };
  }));
}
