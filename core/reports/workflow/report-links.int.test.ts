/**
 * Secure links end to end: the link and its one-time code arrive in separate messages, the code is
 * required and wrong codes count down to revocation, links expire, and every open and refusal is
 * on the ledger. Unknown, expired and revoked links answer alike.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../../test/support/database.ts';
import { listEntries } from '../../ledger/ledger.ts';
import { createReportWorkflow, type ReportWorkflow } from './report-workflow.ts';
import { fixtureGenerator, plainText, reportFiles, reportData, silentLog, startMailCapture, type MailCapture } from './workflow-test-kit.ts';

let capture: MailCapture;
beforeAll(async () => {
  capture = await startMailCapture();
});
afterAll(async () => {
  await capture.close();
});

const t0 = new Date('2026-11-02T06:00:00.000Z');
const linkPattern = /https:\/\/ledgerline\.test\/reports\/links\/([A-Za-z0-9_-]{43})/;

describeOnTestDatabases('secure report links', (db) => {
  let clock = t0;
  const workflowFor = (): ReportWorkflow =>
    createReportWorkflow({ sql: db().sql, generate: fixtureGenerator().generate, mail: capture.transport, mailFrom: 'reports@acme.example', publicUrl: 'https://ledgerline.test', log: silentLog, now: () => clock, linkTtlHours: 72 });
  const requestLink = (workflow: ReportWorkflow, tenantId: string, requireCode: boolean) =>
    workflow.request({ tenantId, templateSlug: 'monthly-activity', parameters: { period: '2026-10' }, format: 'csv', requestedBy: 'ana@acme.example', via: 'api', recipient: 'cfo@acme.example', delivery: 'link', requireCode });
  const linkKinds = async (tenantId: string) =>
    (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).filter((e) => e.kind.startsWith('report.link_')).map((e) => [e.kind, e.body.reason ?? null]);

  it('sends the code in a separate message, requires it, counts wrong codes and revokes the link after five', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const request = await requestLink(workflow, tenantId, true);
    expect(await workflow.processDue()).toBe(1);
    expect(capture.mails.map((m) => m.to)).toEqual([['cfo@acme.example'], ['cfo@acme.example']]);
    const [linkText, codeText] = capture.mails.map((m) => plainText(m.raw));
    const token = linkPattern.exec(linkText!)?.[1];
    const code = /one-time code: (\d{6})/.exec(codeText!)?.[1];
    expect(token).toBeDefined();
    expect(code).toBeDefined();
    // Neither message alone opens the report.
    expect(linkText).not.toContain(code);
    expect(codeText).not.toContain(token);
    expect(codeText).not.toMatch(/https?:/);
    expect(linkText).toContain('The link works until 2026-11-05T06:00:00.000Z.');

    expect(await workflow.openLink(token!)).toEqual({ status: 'code_required' });
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await workflow.openLink(token!, wrong, { ip: '203.0.113.77' })).toEqual({ status: 'wrong_code', attemptsLeft: 4 });
    const opened = await workflow.openLink(token!, code, { ip: '203.0.113.77' });
    expect(opened.status).toBe('ok');
    if (opened.status !== 'ok') return;
    expect(opened.file.body.equals(reportFiles(reportData(), ['csv'])[0]!.body)).toBe(true);
    expect(opened.file).toMatchObject({ format: 'csv', fileName: 'monthly-activity-2026-10.csv' });
    expect(opened.request).toMatchObject({ id: request.id, status: 'delivered', requireCode: true });
    // The code stays valid for the link's lifetime; wrong ones keep counting down.
    expect((await workflow.openLink(token!, code)).status).toBe('ok');
    for (const left of [3, 2, 1, 0]) expect(await workflow.openLink(token!, wrong)).toEqual({ status: 'wrong_code', attemptsLeft: left });
    await expect(workflow.openLink(token!, code)).rejects.toMatchObject({ code: 'LL_NOT_FOUND', message: 'This link does not exist or is no longer valid.' });

    expect(await linkKinds(tenantId)).toEqual([
      ['report.link_refused', 'code_required'],
      ['report.link_refused', 'wrong_code'],
      ['report.link_opened', null],
      ['report.link_opened', null],
      ['report.link_refused', 'wrong_code'],
      ['report.link_refused', 'wrong_code'],
      ['report.link_refused', 'wrong_code'],
      ['report.link_refused', 'wrong_code'],
      ['report.link_refused', 'revoked'],
    ]);
    const entries = await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 });
    expect(entries.find((e) => e.kind === 'report.link_opened')!.body).toMatchObject({ requestId: request.id, withCode: true, network: '203.0.113.0/24', format: 'csv' });
    expect(entries.filter((e) => e.kind === 'report.link_refused').at(-2)!.body).toMatchObject({ attemptsLeft: 0, revoked: true });
    expect(entries.find((e) => e.kind === 'report.delivered')!.body).toMatchObject({ method: 'link', messageId: expect.any(String), codeMessageId: expect.any(String), linkExpiresAt: '2026-11-05T06:00:00.000Z' });
    // Neither the token nor the code is stored or recorded.
    const stored = JSON.stringify([entries.map((e) => e.body), await db().sql.query(`select * from report_link`)]);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(`"${code}"`);
  });

  it('opens a link without a code until it expires, and answers expired and unknown links alike', async () => {
    clock = t0;
    capture.mails.length = 0;
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    await requestLink(workflow, tenantId, false);
    expect(await workflow.processDue()).toBe(1);
    expect(capture.mails).toHaveLength(1);
    const token = linkPattern.exec(plainText(capture.mails[0]!.raw))![1]!;
    expect(plainText(capture.mails[0]!.raw)).not.toContain('one-time code');
    clock = new Date('2026-11-05T05:59:59.000Z');
    expect((await workflow.openLink(token)).status).toBe('ok');
    clock = new Date('2026-11-05T06:00:00.000Z');
    const expired = await workflow.openLink(token).catch((e: unknown) => e);
    const unknown = await workflow.openLink('A'.repeat(43)).catch((e: unknown) => e);
    expect(expired).toMatchObject({ code: 'LL_NOT_FOUND' });
    expect(unknown).toEqual(expired);
    expect(await linkKinds(tenantId)).toEqual([['report.link_opened', null], ['report.link_refused', 'expired']]);
  });
});
