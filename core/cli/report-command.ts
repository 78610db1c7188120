/**
 * `ledgerline report`: the template library, runs written to a file, saved segments, acquisition
 * spend, report requests and schedules — the same reports service the console and API use.
 * Words and flags are checked before the database opens, so a bad flag changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import { invalidInput, isLedgerlineError, LedgerlineError, toLedgerlineError } from '../errors/index.ts';
import {
  builtInTemplates,
  createReportsService,
  deliveryMethods,
  isTimeZone,
  PeriodText,
  reportFormats,
  reportLocales,
  reportMetrics,
  reportRoles,
  reportsOptionsFrom,
  requestStatuses,
  resolvePeriod,
  type ReportParameters,
  type ReportsService,
} from '../reports/index.ts';
import { createTenantDirectory, type TenantView } from '../store/index.ts';
import { deliveryOptionsFrom } from '../triggers/notifications.ts';
import { parseArguments, type Command } from './commands.ts';
import { openRuntime } from './runtime.ts';
import { TenantSlugArg } from './tenant-arg.ts';

const Slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a slug: lower-case letters, digits and dashes, starting with a letter');

const Args = z.strictObject({
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
type Args = z.infer<typeof Args>;

interface Context {
  readonly args: Args;
  readonly reports: ReportsService;
  /** Null only when no tenant exists yet (then only the built-in library can be listed). */
  readonly tenant: TenantView | null;
  readonly by: string;
}
type Action = (ctx: Context) => Promise<number>;

const usageError = (flag: string, message: string): LedgerlineError => invalidInput('arguments', [{ path: [flag], message }]);

function required<T>(value: T | undefined, flag: string, why: string): T {
  if (value === undefined) throw usageError(flag, why);
  return value;
}

function tenantOf(ctx: Context): TenantView {
  if (!ctx.tenant) throw new LedgerlineError('LL_NOT_FOUND', 'there is no tenant yet: install Ledgerline on a platform first');
  return ctx.tenant;
}

/** Prints the line once the awaited change has happened (its result is already shown in the line). */
const done = (_changed: unknown, line: string): number => {
  console.log(line);
  return 0;
};

const print = (ctx: Context, value: unknown, lines: () => readonly string[]): number => {
  console.log(ctx.args.json ? JSON.stringify(value, null, 2) : lines().join('\n'));
  return 0;
};

/** The run parameters from the flags; the period is resolved now so a bad one stops before anything opens. */
function parametersFrom(args: Args): ReportParameters {
  const period = required(args.period, '--period', 'give the period, e.g. 2026-10, 2026-W40 or 2026-10-01..2026-10-15');
  const timeZone = args.tz ?? 'UTC';
  try {
    resolvePeriod(period, timeZone);
  } catch (error) {
    throw isLedgerlineError(error, 'LL_INVALID_INPUT') ? usageError('--period', error.message) : error;
  }
  return { period, timeZone, locale: args.locale ?? 'en', role: args.role ?? 'admin', ...(args.segment ? { segment: args.segment } : {}), ...(args.metrics ? { metrics: args.metrics } : {}) };
}

async function readInput(path: string | undefined, flag: string): Promise<string> {
  try {
    return await readFile(required(path, flag, 'give the file to read'), 'utf8');
  } catch (error) {
    throw isLedgerlineError(error) ? error : usageError(flag, `cannot read ${path}: ${(error as Error).message}`);
  }
}

async function readJson(path: string | undefined): Promise<unknown> {
  const text = await readInput(path, '--file');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError('--file', `${path} is not JSON: ${(error as Error).message}`);
  }
}

/** Temp file in the same directory, then rename: a reader never sees half a report. */
async function writeAtomically(path: string, body: Buffer): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, body, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

const kilobytes = (bytes: number): string => (bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(1)} KB`);

/** Validation errors of the workflow named by the flag that carries the field. */
const flagOfField: Readonly<Record<string, string>> = { templateSlug: 'template', timeZone: 'tz', localTime: 'at', dayOfMonth: 'day', requireCode: 'code', recipient: 'recipient', delivery: 'delivery', format: 'format', cadence: 'cadence', weekday: 'weekday', period: 'period', segment: 'segment', metrics: 'metrics', locale: 'locale', role: 'role' };
function asFlagError(thrown: unknown): LedgerlineError {
  const error = toLedgerlineError(thrown);
  if (error.code !== 'LL_INVALID_INPUT' || !error.details.issues) return error;
  return invalidInput('arguments', error.details.issues.map((i) => {
    const field = i.path.split('.').find((part) => part in flagOfField);
    return { path: [field ? `--${flagOfField[field]}` : i.path], message: i.message };
  }));
}

async function planRun(args: Args, template: string | undefined): Promise<Action> {
  const slug = required(template, 'template', 'name the template to run, e.g. `report run account-activity` (see `report list`)');
  const parameters = parametersFrom(args);
  const out = resolve(required(args.out, '--out', 'give the file to write, e.g. --out report.pdf'));
  const byExtension = reportFormats.find((f) => extname(out) === `.${f}`);
  const format = args.format ?? byExtension ?? 'pdf';
  const folder = await stat(dirname(out)).catch(() => null);
  if (!folder?.isDirectory()) throw usageError('--out', `there is no directory ${dirname(out)}`);
  return async (ctx) => {
    const started = performance.now();
    const progress = (step: string): void => console.error(`[${((performance.now() - started) / 1000).toFixed(1)}s] ${step}`);
    const report = await ctx.reports.generate({ tenantId: tenantOf(ctx).id, templateSlug: slug, parameters, formats: [format], onProgress: progress });
    const file = report.files[0]!;
    await writeAtomically(out, file.body);
    progress(`wrote ${file.format}`);
    console.log(`${out} (${kilobytes(file.body.length)})`);
    return 0;
  };
}

/** A template's or segment's definition as JSON, ready to edit and save back with --file. */
function showDefinition(kind: 'template' | 'segment', name: string, found: { readonly definition: unknown } | null): number {
  if (!found) throw new LedgerlineError('LL_NOT_FOUND', `no ${kind} ${name}`);
  console.log(JSON.stringify(found.definition, null, 2));
  return 0;
}

const sectionsWord = (n: number): string => `${n} section${n === 1 ? '' : 's'}`;

/** What a subcommand will do, its words and flags checked; nothing is opened or written yet. */
async function plan(args: Args, words: readonly string[]): Promise<Action> {
  const [group, action, target] = words;
  const slug = (what: string): string => {
    const parsed = Slug.safeParse(required(target, what, `name the ${what}`));
    if (!parsed.success) throw usageError(what, parsed.error.issues[0]?.message ?? 'not a slug');
    return parsed.data;
  };
  const grouped = group === 'templates' || group === 'segments' || group === 'spend' || group === 'schedule';
  switch (grouped ? `${group} ${action ?? ''}` : group) {
    case 'list':
      return async (ctx) => {
        const templates = ctx.tenant ? await ctx.reports.templates.list(ctx.tenant.id) : builtInTemplates;
        const rows = templates.map((t) => ({ slug: t.slug, title: t.definition.title, sections: t.definition.sections.length, builtIn: t.builtIn }));
        const width = Math.max(...rows.map((r) => r.slug.length));
        return print(ctx, rows, () => rows.map((r) => `${r.slug.padEnd(width)}  ${r.title} (${sectionsWord(r.sections)}${r.builtIn ? ', built in' : ''})`));
      };
    case 'templates show': {
      const name = slug('template');
      return async (ctx) => showDefinition('template', name, await ctx.reports.templates.get(tenantOf(ctx).id, name));
    }
    case 'templates save': {
      const name = slug('template');
      const definition = await readJson(args.file);
      return async (ctx) => {
        const saved = await ctx.reports.templates.save(tenantOf(ctx).id, name, definition, ctx.by);
        console.log(`Saved template ${saved.slug}: ${saved.definition.title} (${sectionsWord(saved.definition.sections.length)})`);
        return 0;
      };
    }
    case 'templates remove': {
      const name = slug('template');
      return async (ctx) => done(await ctx.reports.templates.remove(tenantOf(ctx).id, name, ctx.by), `Removed template ${name}`);
    }
    case 'segments list':
      return async (ctx) => {
        const segments = await ctx.reports.segments.list(tenantOf(ctx).id);
        return print(ctx, segments, () => (segments.length === 0 ? ['No saved segments'] : segments.map((s) => `${s.slug}  ${s.definition.name} (${s.definition.conditions.length} conditions, match ${s.definition.match})`)));
      };
    case 'segments show': {
      const name = slug('segment');
      return async (ctx) => showDefinition('segment', name, await ctx.reports.segments.get(tenantOf(ctx).id, name));
    }
    case 'segments save': {
      const name = slug('segment');
      const definition = await readJson(args.file);
      return async (ctx) => done(await ctx.reports.segments.save(tenantOf(ctx).id, name, definition, ctx.by), `Saved segment ${name}`);
    }
    case 'segments remove': {
      const name = slug('segment');
      return async (ctx) => done(await ctx.reports.segments.remove(tenantOf(ctx).id, name, ctx.by), `Removed segment ${name}`);
    }
    case 'segments size': {
      const name = slug('segment');
      return async (ctx) => {
        const customers = await ctx.reports.segments.size(tenantOf(ctx).id, name);
        return print(ctx, { segment: name, customers }, () => [`${name}: ${customers} customers`]);
      };
    }
    case 'spend import': {
      const csv = await readInput(target, 'file');
      return async (ctx) => {
        const result = await ctx.reports.spend.importCsv(tenantOf(ctx).id, csv, ctx.by);
        console.log(`Imported ${result.rows} spend line(s) from ${target} (${result.replaced} replaced)`);
        return 0;
      };
    }
    case 'spend list':
      return async (ctx) => {
        const spend = await ctx.reports.spend.list(tenantOf(ctx).id);
        return print(ctx, spend, () => (spend.length === 0 ? ['No acquisition spend recorded'] : spend.map((s) => `${s.spentOn}  ${s.channel}  ${s.amount} ${s.currency}  (by ${s.importedBy})`)));
      };
    case 'requests':
      return async (ctx) => {
        const requests = await ctx.reports.workflow.list(tenantOf(ctx).id, args.status ? { status: args.status } : {});
        return print(ctx, requests, () =>
          requests.length === 0 ? ['No report requests'] : requests.map((r) => `${r.id}  ${r.status.padEnd(12)}  ${r.templateSlug} ${r.parameters?.period ?? '?'} ${r.format} by ${r.delivery}${r.recipient ? ` to ${r.recipient}` : ''}${r.statusReason ? `: ${r.statusReason}` : ''}`),
        );
      };
    case 'acknowledge': {
      const id = required(action, 'id', 'name the request to acknowledge');
      return async (ctx) => done(await ctx.reports.workflow.acknowledge(tenantOf(ctx).id, id, ctx.by), `Acknowledged ${id}`);
    }
    case 'dispute': {
      const id = required(action, 'id', 'name the request to dispute');
      const reason = required(args.reason, '--reason', 'say why the report is disputed');
      return async (ctx) => done(await ctx.reports.workflow.dispute(tenantOf(ctx).id, id, ctx.by, reason), `Disputed ${id}`);
    }
    case 'schedule list':
      return async (ctx) => {
        const schedules = await ctx.reports.workflow.schedules.list(tenantOf(ctx).id);
        return print(ctx, schedules, () =>
          schedules.length === 0 ? ['No schedules'] : schedules.map((s) => `${s.id}  ${s.templateSlug} ${s.cadence} at ${s.localTime} ${s.timeZone} to ${s.recipient} by ${s.delivery} (${s.format}); next ${s.nextRunAt.toISOString()}`),
        );
      };
    case 'schedule create': {
      const cadence = required(args.cadence, '--cadence', 'give the cadence: daily, weekly or monthly');
      const input = {
        templateSlug: required(args.template, '--template', 'name the template to send'),
        parameters: { locale: args.locale ?? 'en', role: args.role ?? 'admin', ...(args.segment ? { segment: args.segment } : {}), ...(args.metrics ? { metrics: args.metrics } : {}) },
        recipient: required(args.recipient, '--recipient', 'give the e-mail address to send to'),
        delivery: args.delivery ?? 'attachment',
        format: args.format ?? 'pdf',
        requireCode: args.code ?? false,
        cadence,
        timeZone: args.tz ?? 'UTC',
        localTime: required(args.at, '--at', 'give the local time to send at, e.g. 08:00'),
        weekday: cadence === 'weekly' ? (args.weekday ?? 1) : (args.weekday ?? null),
        dayOfMonth: cadence === 'monthly' ? (args.day ?? 1) : (args.day ?? null),
      };
      return async (ctx) => {
        const created = await ctx.reports.workflow.schedules.create(tenantOf(ctx).id, input, ctx.by).catch((error: unknown) => {
          throw asFlagError(error);
        });
        console.log(`Scheduled ${created.templateSlug} ${created.cadence} at ${created.localTime} ${created.timeZone} to ${created.recipient}: ${created.id}, first run ${created.nextRunAt.toISOString()}`);
        return 0;
      };
    }
    case 'schedule remove': {
      const id = required(target, 'id', 'name the schedule to remove');
      return async (ctx) => done(await ctx.reports.workflow.schedules.remove(tenantOf(ctx).id, id, ctx.by), `Removed schedule ${id}`);
    }
  }
  if (group === 'run') return planRun(args, action);
  if (group === 'request') {
    const templateSlug = required(action, 'template', 'name the template to request');
    const parameters = parametersFrom(args);
    const delivery = required(args.delivery, '--delivery', 'choose attachment, link or portal');
    return async (ctx) => {
      const input = { tenantId: tenantOf(ctx).id, templateSlug, parameters, format: args.format ?? 'pdf', requestedBy: ctx.by, via: 'cli' as const, recipient: args.recipient ?? null, delivery, requireCode: args.code ?? false };
      const request = await ctx.reports.workflow.request(input).catch((error: unknown) => {
        throw asFlagError(error);
      });
      return done(request, `Requested ${request.id}: ${templateSlug} ${parameters.period} (${request.format}) by ${delivery}, due by ${request.sla.generateDueAt.toISOString()}; the worker generates and delivers it`);
    };
  }
  throw usageError('subcommand', `unknown subcommand '${words.join(' ')}': see \`ledgerline report --help\``);
}

async function findTenant(directory: { list(): Promise<TenantView[]> }, slug: string | undefined): Promise<TenantView | null> {
  const tenants = await directory.list();
  if (slug) {
    const tenant = tenants.find((t) => t.slug === slug);
    if (!tenant) throw new LedgerlineError('LL_NOT_FOUND', `no tenant ${slug}`);
    return tenant;
  }
  if (tenants.length > 1) throw usageError('--tenant', `there are ${tenants.length} tenants: name one (${tenants.map((t) => t.slug).join(', ')})`);
  return tenants[0] ?? null;
}

export const reportCommand: Command = {
  summary: 'Reports: the template library, runs to a file, segments, acquisition spend, report requests and schedules',
  usage: [
    'list | run <template> --period 2026-10 --out FILE [--format pdf|html|csv|json] [--segment S] [--metrics a,b] [--locale en|es|de] [--tz ZONE] [--role ROLE]',
    '  | templates show|save|remove <slug> [--file def.json] | segments list|show|save|remove|size [<slug>] [--file def.json]',
    '  | spend import FILE.csv | spend list | request <template> --period P --delivery attachment|link|portal [--recipient EMAIL] [--code] [--format F]',
    '  | requests [--status S] | acknowledge <id> | dispute <id> --reason TEXT',
    '  | schedule list | schedule create --template T --recipient EMAIL --cadence daily|weekly|monthly --at 08:00 [--tz ZONE] [--weekday 1-7] [--day 1-28] | schedule remove <id>',
    '  (all with [--tenant SLUG] when there is more than one tenant)',
  ].join('\n'),
  positionals: { min: 1, max: 3 },
  options: {
    tenant: { type: 'string', valueName: 'slug', doc: 'The tenant (may be omitted when there is only one)' },
    period: { type: 'string', valueName: 'period', doc: 'A month 2026-10, ISO week 2026-W40, day 2026-10-05 or days 2026-10-01..2026-10-15' },
    segment: { type: 'string', valueName: 'slug', doc: 'Only the customers of this saved segment' },
    metrics: { type: 'string', valueName: 'a,b', doc: `Headline figures (${reportMetrics.join(', ')})` },
    format: { type: 'string', valueName: 'format', doc: 'pdf, html, csv or json (run: from --out, else pdf)' },
    locale: { type: 'string', valueName: 'locale', doc: 'en, es or de' },
    tz: { type: 'string', valueName: 'zone', doc: 'The time zone of the period and the times shown (default UTC)' },
    role: { type: 'string', valueName: 'role', doc: 'Who reads it: admin, analyst, agent or customer (picks the masking)' },
    out: { type: 'string', valueName: 'file', doc: 'Where run writes the report' },
    file: { type: 'string', valueName: 'file', doc: 'A JSON definition (templates save, segments save)' },
    recipient: { type: 'string', valueName: 'email', doc: 'Who receives the report (request, schedule)' },
    delivery: { type: 'string', valueName: 'method', doc: 'attachment, link or portal' },
    code: { type: 'boolean', doc: 'Protect a link with a one-time code' },
    status: { type: 'string', valueName: 'status', doc: `Only requests in this status (${requestStatuses.join(', ')})` },
    reason: { type: 'string', valueName: 'text', doc: 'Why the report is disputed' },
    template: { type: 'string', valueName: 'slug', doc: 'The template of a schedule' },
    cadence: { type: 'string', valueName: 'cadence', doc: 'daily, weekly or monthly' },
    at: { type: 'string', valueName: 'HH:MM', doc: 'Local time a schedule runs' },
    weekday: { type: 'string', valueName: '1-7', doc: 'Weekly: ISO weekday (default 1, Monday)' },
    day: { type: 'string', valueName: '1-28', doc: 'Monthly: day of the month (default 1)' },
    json: { type: 'boolean', doc: 'Machine-readable output (lists)' },
  },
  async run(values, positionals) {
    const args = parseArguments(Args, values);
    const action = await plan(args, positionals);
    const runtime = await openRuntime({ name: 'report', migrate: false });
    let reports: ReportsService | null = null;
    try {
      const tenant = await findTenant(createTenantDirectory(() => runtime.db.fork()), args.tenant);
      const delivery = await deliveryOptionsFrom(runtime.config);
      reports = createReportsService({ sql: runtime.db.sql, keyring: runtime.keyring, mail: delivery.mail, log: runtime.log, ...reportsOptionsFrom(runtime.config) });
      return await action({ args, reports, tenant, by: userInfo().username });
    } finally {
      await reports?.close();
      await runtime.close();
    }
  },
};
