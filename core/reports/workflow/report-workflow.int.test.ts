/**
 * A report from request to delivery against a real SMTP server on loopback: the e-mail with the
 * HTML body and the PDF attached, retries into a failure, portal delivery, and a worker that dies
 * between claim and delivery — each step on the ledger in order.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../../test/support/database.ts';
import { LedgerlineError } from '../../errors/index.ts';
import { listEntries } from '../../ledger/ledger.ts';
import { verifyChain } from '../../ledger/verify.ts';
import { claimDue } from './report-processor.ts';
import { createReportWorkflow, type ReportWorkflow } from './report-workflow.ts';
import { workflowContext, type ReportWorkflowOptions } from './workflow-context.ts';
import { fixtureGenerator, leafParts, parseMime, silentLog, startMailCapture, type FixtureGenerator, type MailCapture } from './workflow-test-kit.ts';

let capture: MailCapture;
beforeAll(async () => {
  capture = await startMailCapture();
});
afterAll(async () => {
  await capture.close();
});

const t0 = new Date('2026-11-02T06:00:00.000Z');
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

describeOnTestDatabases('the report request-to-delivery workflow', (db) => {
  let clock = t0;
  const setUp = (generator: FixtureGenerator = fixtureGenerator(), extra: Partial<ReportWorkflowOptions> = {}) => {
    const options: ReportWorkflowOptions = {
      sql: db().sql,
      generate: generator.generate,
      mail: capture.transport,
      mailFrom: 'Ledgerline <reports@acme.example>',
      publicUrl: 'https://ledgerline.test/',
      log: silentLog,
      now: () => clock,
      maxAttempts: 3,
      retryBaseMs: 1000,
      ...extra,
    };
    return { workflow: createReportWorkflow(options), options };
  };
  const reportKinds = async (tenantId: string) =>
    (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).map((e) => e.kind).filter((k) => k.startsWith('report.'));
  const request = (workflow: ReportWorkflow, tenantId: string, overrides: Partial<Parameters<ReportWorkflow['request']>[0]> = {}) =>
    workflow.request({ tenantId, templateSlug: 'monthly-activity', parameters: { period: '2026-10' }, format: 'csv', requestedBy: 'ana@acme.example', via: 'console', recipient: 'cfo@acme.example', delivery: 'attachment', ...overrides });

  it('e-mails the report with its HTML as the body and the PDF and CSV attached, exactly once, and records every step', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const generator = fixtureGenerator();
    const { workflow } = setUp(generator);
    const requested = await request(workflow, tenantId);
    expect(requested).toMatchObject({ status: 'requested', format: 'csv', delivery: 'attachment', files: [], sla: { generateDueAt: new Date('2026-11-02T10:00:00.000Z'), acknowledgeDueAt: null, overdue: null } });

    clock = new Date(t0.getTime() + 60_000);
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.processDue()).toBe(0);
    expect(generator.calls).toEqual([{ templateSlug: 'monthly-activity', period: '2026-10', timeZone: 'UTC', formats: ['csv', 'html', 'pdf'] }]);
    expect(capture.mails.map((m) => m.to)).toEqual([['cfo@acme.example']]);

    const delivered = (await workflow.get(tenantId, requested.id))!;
    expect(delivered).toMatchObject({ status: 'delivered', deliveredAt: clock, sla: { acknowledgeDueAt: new Date('2026-11-05T06:01:00.000Z'), overdue: null } });
    const stored = Object.fromEntries(await Promise.all(['html', 'pdf', 'csv'].map(async (f) => [f, (await workflow.download(tenantId, requested.id, f as 'pdf', 'auditor@acme.example')).body] as const)));
    expect(delivered.files.map((f) => [f.format, f.sha256, f.bytes])).toEqual(['csv', 'html', 'pdf'].map((f) => [f, sha256(stored[f]!), stored[f]!.length]));

    const message = parseMime(capture.mails[0]!.raw);
    expect(message.headers['content-type']).toMatch(/^multipart\/mixed;/);
    expect(message.headers['subject']).toBe('[Ledgerline] Report monthly-activity, 2026-10');
    expect(message.headers['message-id']).toBe(`<report-${requested.id}@ledgerline.test>`);
    const parts = leafParts(message);
    const html = parts.find((p) => p.headers['content-type']?.startsWith('text/html'));
    expect(html!.body.toString('utf8')).toBe(stored.html!.toString('utf8'));
    const pdf = parts.find((p) => p.headers['content-type']?.startsWith('application/pdf'));
    expect(pdf!.headers['content-disposition']).toBe('attachment; filename=monthly-activity-2026-10.pdf');
    expect(pdf!.headers['content-transfer-encoding']).toBe('base64');
    expect(pdf!.body.equals(stored.pdf!)).toBe(true);
    const csv = parts.find((p) => p.headers['content-type']?.startsWith('text/csv'));
    expect(csv!.headers['content-disposition']).toBe('attachment; filename=monthly-activity-2026-10.csv');
    expect(csv!.body.equals(stored.csv!)).toBe(true);

    await workflow.acknowledge(tenantId, requested.id, 'cfo@acme.example');
    await expect(workflow.acknowledge(tenantId, requested.id, 'cfo@acme.example')).rejects.toMatchObject({ code: 'LL_CONFLICT' });
    expect(await reportKinds(tenantId)).toEqual(['report.requested', 'report.generated', 'report.quality_checked', 'report.delivered', 'report.downloaded', 'report.downloaded', 'report.downloaded', 'report.acknowledged']);

    const entries = await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 });
    const generated = entries.find((e) => e.kind === 'report.generated')!;
    expect(generated.body).toEqual({ requestId: requested.id, attempt: 1, files: delivered.files.map((f) => ({ format: f.format, bytes: f.bytes, sha256: f.sha256 })) });
    expect(entries.find((e) => e.kind === 'report.delivered')!.body).toMatchObject({ method: 'attachment', recipient: 'c***@acme.example', messageId: `<report-${requested.id}@ledgerline.test>` });
    // The ledger names the report, never its content or the full address.
    const workflowSteps = entries.filter((e) => ['report.requested', 'report.generated', 'report.quality_checked', 'report.delivered'].includes(e.kind));
    expect(JSON.stringify(workflowSteps.map((e) => e.body))).not.toMatch(/Monthly activity|Period 2026|cfo@acme/);
    expect((await verifyChain((s, p) => db().sql.query(s, p), tenantId)).ok).toBe(true);
    // Another tenant sees none of it.
    const other = await seedInstallation(db());
    expect(await workflow.get(other.tenantId, requested.id)).toBeNull();
    await expect(workflow.download(other.tenantId, requested.id, 'pdf', 'x')).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
  });

  it('retries a refused delivery with backoff, then fails it with the reason; a permanent refusal fails at once', async () => {
    clock = t0;
    capture.mails.length = 0;
    capture.refuse.set('busy@acme.example', 451);
    capture.refuse.set('gone@acme.example', 550);
    const { tenantId } = await seedInstallation(db());
    const generator = fixtureGenerator();
    const { workflow } = setUp(generator);
    const busy = await request(workflow, tenantId, { recipient: 'busy@acme.example', format: 'pdf' });
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.get(tenantId, busy.id)).toMatchObject({ status: 'generated', attempts: 1, statusReason: expect.stringMatching(/451/) });
    expect(await workflow.processDue()).toBe(0);
    clock = new Date(t0.getTime() + 1_000);
    expect(await workflow.processDue()).toBe(1);
    clock = new Date(t0.getTime() + 2_999);
    expect(await workflow.processDue()).toBe(0);
    clock = new Date(t0.getTime() + 3_000);
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.get(tenantId, busy.id)).toMatchObject({ status: 'failed', attempts: 3 });
    // Generated once: retries resend, they do not re-run the report.
    expect(generator.calls).toHaveLength(1);

    const gone = await request(workflow, tenantId, { recipient: 'gone@acme.example' });
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.get(tenantId, gone.id)).toMatchObject({ status: 'failed', attempts: 1, statusReason: expect.stringMatching(/550/) });
    expect(capture.mails).toEqual([]);

    const entries = (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).filter((e) => e.kind.startsWith('report.'));
    expect(entries.map((e) => e.kind)).toEqual([
      'report.requested', 'report.generated', 'report.quality_checked', 'report.attempt_failed', 'report.attempt_failed', 'report.failed',
      'report.requested', 'report.generated', 'report.quality_checked', 'report.failed',
    ]);
    expect(entries.filter((e) => e.kind === 'report.attempt_failed').map((e) => e.body.retryAt)).toEqual(['2026-11-02T06:00:01.000Z', '2026-11-02T06:00:03.000Z']);
    expect(entries[5]!.body).toMatchObject({ requestId: busy.id, stage: 'deliver', attempt: 3, reason: expect.stringMatching(/451/) });
  });

  it('retries a request whose worker died after claiming it, and delivers it once', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const generator = fixtureGenerator({ failures: 1 });
    const { workflow, options } = setUp(generator);
    const first = await request(workflow, tenantId, { format: 'pdf' });
    // A worker claims it and dies: the claim is committed, nothing else happens.
    expect((await claimDue(workflowContext(options), 5)).map((r) => r.id)).toEqual([first.id]);
    expect(await workflow.processDue()).toBe(0);
    // The lease runs out; the next worker's run hits a failing printer once, then succeeds on the retry.
    clock = new Date(t0.getTime() + 10 * 60_000);
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.get(tenantId, first.id)).toMatchObject({ status: 'requested', attempts: 2, statusReason: 'the PDF printer stopped unexpectedly' });
    clock = new Date(clock.getTime() + 2_000);
    expect(await workflow.processDue()).toBe(1);
    clock = new Date(clock.getTime() + 60 * 60_000);
    expect(await workflow.processDue()).toBe(0);
    expect(await workflow.get(tenantId, first.id)).toMatchObject({ status: 'delivered', attempts: 3 });
    expect(capture.mails).toHaveLength(1);
    expect(generator.calls).toHaveLength(2);
    expect(await reportKinds(tenantId)).toEqual(['report.requested', 'report.attempt_failed', 'report.generated', 'report.quality_checked', 'report.delivered']);
  });

  it('delivers to the portal without e-mail, and fails a request for a template the generator does not know', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const { workflow } = setUp({
      calls: [],
      // As the real generator answers a template it does not have.
      generate: (input) => (input.templateSlug === 'no-such-template' ? Promise.reject(new LedgerlineError('LL_NOT_FOUND', 'no report template no-such-template')) : fixtureGenerator().generate(input)),
    });
    const portal = await request(workflow, tenantId, { delivery: 'portal', recipient: null, format: 'json' });
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.get(tenantId, portal.id)).toMatchObject({ status: 'delivered', files: [{ format: 'json' }] });
    const file = await workflow.download(tenantId, portal.id, 'json', 'ana@acme.example');
    expect(JSON.parse(file.body.toString('utf8'))).toMatchObject({ template: { slug: 'monthly-activity' } });
    expect(capture.mails).toEqual([]);
    await expect(workflow.download(tenantId, portal.id, 'pdf', 'ana@acme.example')).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
    expect(await workflow.list(tenantId, { status: 'delivered' })).toMatchObject([{ id: portal.id }]);
    const unknown = await request(workflow, tenantId, { templateSlug: 'no-such-template', delivery: 'portal', recipient: null });
    expect(await workflow.processDue()).toBe(1);
    expect(await workflow.list(tenantId, { status: 'failed' })).toMatchObject([{ id: unknown.id, attempts: 1, statusReason: 'no report template no-such-template', files: [] }]);
    const [failed] = await listEntries((s, p) => db().sql.query(s, p), tenantId, { kind: 'report.failed' });
    expect(failed!.body).toEqual({ requestId: unknown.id, stage: 'generate', attempt: 1, code: 'LL_NOT_FOUND', reason: 'no report template no-such-template' });
  });
});
