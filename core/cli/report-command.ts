/**
 * `ledgerline report`: the template library, runs written to a file, saved segments, acquisition
 * spend, report requests and schedules — the same reports service the console and API use.
 * Words and flags are checked before the database opens, so a bad flag changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { LedgerlineError } from '../errors/index.ts';
import { builtInTemplates, createReportsService, reportFormats, reportMetrics, reportsOptionsFrom, requestStatuses, type ReportsService } from '../reports/index.ts';
import { createTenantDirectory, type TenantView } from '../store/index.ts';
import { deliveryOptionsFrom } from '../triggers/notifications.ts';
import { parseArguments, type Command } from './commands.ts';
import { Args, done, parametersFrom, print, readInput, readJson, required, Slug, tenantOf, usageError, type Action } from './report-command-kit.ts';
import { planWorkflow } from './report-workflow-actions.ts';
import { openRuntime } from './runtime.ts';

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
  }
  if (group === 'run') return planRun(args, action);
  const workflow = planWorkflow(args, words);
  if (workflow) return workflow;
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
