/**
 * The `ledgerline report` subcommands of the request-to-delivery workflow: requests, their
 * acknowledgement or dispute, and schedules. Like the others, each is planned (words and flags
 * checked) before anything opens.
 */
import { required, tenantOf, done, print, parametersFrom, asFlagError, type Action, type Args } from './report-command-kit.ts';

/** The action for a workflow subcommand, or null when the words name another one. */
export function planWorkflow(args: Args, words: readonly string[]): Action | null {
  const [group, action, target] = words;
  switch (group === 'schedule' ? `${group} ${action ?? ''}` : group) {
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
  return null;
}
