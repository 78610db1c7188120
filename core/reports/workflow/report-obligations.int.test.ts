/**
 * The obligations around a report: a report the quality check blocks is not sent until an admin
 * approves it; the supply and acknowledgement timers escalate once each; a dispute escalates at
 * once; requests that cannot be served are refused with the field to fix.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../../test/support/database.ts';
import { listEntries } from '../../ledger/ledger.ts';
import { createReportWorkflow, type ReportWorkflow } from './report-workflow.ts';
import { fixtureGenerator, reportData, silentLog, startMailCapture, type MailCapture } from './workflow-test-kit.ts';

let capture: MailCapture;
beforeAll(async () => {
  capture = await startMailCapture();
});
afterAll(async () => {
  await capture.close();
});

const t0 = new Date('2026-11-02T06:00:00.000Z');
const hours = (n: number) => new Date(t0.getTime() + n * 3_600_000);

describeOnTestDatabases('report obligations: quality, SLA timers and disputes', (db) => {
  let clock = t0;
  const workflowFor = (generate = fixtureGenerator().generate): ReportWorkflow =>
    createReportWorkflow({ sql: db().sql, generate, mail: capture.transport, mailFrom: 'reports@acme.example', publicUrl: 'https://ledgerline.test', log: silentLog, now: () => clock, sla: { generateHours: 4, acknowledgeHours: 48 } });
  const request = (workflow: ReportWorkflow, tenantId: string, overrides: Partial<Parameters<ReportWorkflow['request']>[0]> = {}) =>
    workflow.request({ tenantId, templateSlug: 'monthly-activity', parameters: { period: '2026-10' }, format: 'pdf', requestedBy: 'ana@acme.example', via: 'console', recipient: 'cfo@acme.example', delivery: 'attachment', ...overrides });
  const reportEntries = async (tenantId: string) => (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).filter((e) => e.kind.startsWith('report.'));

  it('blocks a report built on a stale source, sends nothing, and delivers it once an admin approves', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const stale = () => reportData({ sources: [{ installationId: 'i', platform: 'hubspot', accountName: 'acme-crm', lastSyncedAt: '2026-10-30T06:00:00.000Z', gaps: [] }] });
    const workflow = workflowFor(fixtureGenerator({ data: stale }).generate);
    const blocked = await request(workflow, tenantId);
    await expect(workflow.approve(tenantId, blocked.id, 'admin@acme.example', 'checked')).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    expect(await workflow.processDue()).toBe(1);
    expect(capture.mails).toEqual([]);
    const view = (await workflow.get(tenantId, blocked.id))!;
    expect(view).toMatchObject({ status: 'blocked', statusReason: expect.stringMatching(/^hubspot \(acme-crm\) last synced at 2026-10-30T06:00:00.000Z, 72 hours ago/) });
    expect(view.quality).toMatchObject({ passed: false, reasons: [{ code: 'stale_source' }], override: null });
    // Blocked means waiting for a person: later rounds leave it alone.
    clock = hours(1);
    expect(await workflow.processDue()).toBe(0);

    await workflow.approve(tenantId, blocked.id, 'admin@acme.example', 'The CRM outage is known; October figures are complete.');
    expect((await workflow.get(tenantId, blocked.id))!.quality).toMatchObject({ passed: false, override: { by: 'admin@acme.example', at: hours(1).toISOString() } });
    expect(await workflow.processDue()).toBe(1);
    expect(capture.mails).toHaveLength(1);
    expect(await workflow.get(tenantId, blocked.id)).toMatchObject({ status: 'delivered' });
    await expect(workflow.approve(tenantId, blocked.id, 'admin@acme.example', 'again')).rejects.toMatchObject({ code: 'LL_CONFLICT' });

    const entries = await reportEntries(tenantId);
    expect(entries.map((e) => e.kind)).toEqual(['report.requested', 'report.generated', 'report.blocked', 'report.quality_overridden', 'report.delivered']);
    expect(entries[2]!.body).toMatchObject({ requestId: blocked.id, reasons: [{ code: 'stale_source', message: expect.stringContaining('acme-crm') }] });
    expect(entries[3]!.body).toEqual({ requestId: blocked.id, by: 'admin@acme.example', note: 'The CRM outage is known; October figures are complete.', reasons: ['stale_source'] });
    // SLA timers run over every tenant: close this one so later tests count only their own.
    await workflow.acknowledge(tenantId, blocked.id, 'cfo@acme.example');
  });

  it('escalates an unsupplied report when its timer runs out, then an unacknowledged one, each once', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const late = await request(workflow, tenantId);
    clock = hours(3.9);
    expect(await workflow.escalateOverdue()).toBe(0);
    clock = hours(4.1);
    expect(await workflow.get(tenantId, late.id)).toMatchObject({ sla: { overdue: 'generate' } });
    expect(await workflow.escalateOverdue()).toBe(1);
    expect(await workflow.escalateOverdue()).toBe(0);
    expect(await workflow.get(tenantId, late.id)).toMatchObject({ status: 'escalated', escalatedAt: hours(4.1) });
    // Escalated is not abandoned: the worker still supplies it, late.
    expect(await workflow.processDue()).toBe(1);
    const delivered = (await workflow.get(tenantId, late.id))!;
    expect(delivered).toMatchObject({ status: 'delivered', sla: { acknowledgeDueAt: hours(52.1), overdue: null } });
    clock = hours(52.2);
    expect(await workflow.escalateOverdue()).toBe(1);
    expect(await workflow.escalateOverdue()).toBe(0);
    expect(await workflow.get(tenantId, late.id)).toMatchObject({ status: 'escalated', sla: { overdue: 'acknowledge' } });
    await workflow.acknowledge(tenantId, late.id, 'cfo@acme.example');
    expect(await workflow.get(tenantId, late.id)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'cfo@acme.example', sla: { overdue: null } });

    const entries = await reportEntries(tenantId);
    expect(entries.map((e) => e.kind)).toEqual(['report.requested', 'report.escalated', 'report.generated', 'report.quality_checked', 'report.delivered', 'report.escalated', 'report.acknowledged']);
    expect(entries[1]!.body).toEqual({ requestId: late.id, reason: 'overdue', timer: 'generate', dueAt: hours(4).toISOString(), previousStatus: 'requested' });
    expect(entries[5]!.body).toEqual({ requestId: late.id, reason: 'overdue', timer: 'acknowledge', dueAt: hours(52.1).toISOString(), previousStatus: 'delivered' });
  });

  it('escalates a dispute at once and never again for the same report', async () => {
    clock = t0;
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const disputed = await request(workflow, tenantId);
    await expect(workflow.dispute(tenantId, disputed.id, 'cfo@acme.example', 'too early')).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    expect(await workflow.processDue()).toBe(1);
    clock = hours(1);
    await workflow.dispute(tenantId, disputed.id, 'cfo@acme.example', 'October refunds are missing');
    expect(await workflow.get(tenantId, disputed.id)).toMatchObject({ status: 'disputed', disputeReason: 'October refunds are missing', disputedAt: hours(1), escalatedAt: hours(1) });
    await expect(workflow.acknowledge(tenantId, disputed.id, 'cfo@acme.example')).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    clock = hours(500);
    expect(await workflow.escalateOverdue()).toBe(0);
    expect((await reportEntries(tenantId)).slice(-2).map((e) => [e.kind, e.body])).toEqual([
      ['report.disputed', { requestId: disputed.id, by: 'cfo@acme.example', reason: 'October refunds are missing', previousStatus: 'delivered' }],
      ['report.escalated', { requestId: disputed.id, reason: 'disputed', timer: null, previousStatus: 'delivered' }],
    ]);
  });

  it('refuses requests it cannot serve and names the field to fix', async () => {
    clock = t0;
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const refusal = (overrides: Partial<Parameters<ReportWorkflow['request']>[0]>) => request(workflow, tenantId, overrides).catch((e: unknown) => e);
    expect(await refusal({ recipient: null })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'recipient' } });
    expect(await refusal({ delivery: 'link', recipient: 'not-an-address' })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'recipient' } });
    expect(await refusal({ via: 'agent' })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'onBehalfOf' } });
    expect(await refusal({ requireCode: true })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'requireCode' } });
    expect(await refusal({ parameters: { period: '2026-13' } })).toMatchObject({ code: 'LL_INVALID_INPUT' });
    expect(await refusal({ parameters: { period: '2026-10', timeZone: 'Mars/Olympus' } })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'parameters.timeZone' } });
    const agent = await request(workflow, tenantId, { via: 'agent', requestedBy: 'agent:zendesk:42', onBehalfOf: 'customer@example.com', delivery: 'portal', recipient: null });
    expect(agent).toMatchObject({ requestedVia: 'agent', onBehalfOf: 'customer@example.com', status: 'requested' });
    expect(await workflow.list(tenantId)).toHaveLength(1);
    expect(await reportEntries(tenantId)).toHaveLength(1);
  });
});
