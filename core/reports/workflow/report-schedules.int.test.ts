/**
 * Schedules against the database: validation, the next run in the schedule's zone across a DST
 * change, a monthly run requesting the previous month, missed runs made up once, and removal.
 */
import { expect, it } from 'vitest';
import { describeOnTestDatabases, seedInstallation } from '../../../test/support/database.ts';
import { listEntries } from '../../ledger/ledger.ts';
import { createReportWorkflow, type ReportWorkflow } from './report-workflow.ts';
import { fixtureGenerator, silentLog, type FixtureGenerator } from './workflow-test-kit.ts';

describeOnTestDatabases('report schedules', (db) => {
  let clock = new Date('2026-03-28T12:00:00.000Z');
  let generator: FixtureGenerator;
  const workflowFor = (): ReportWorkflow => {
    generator = fixtureGenerator();
    return createReportWorkflow({ sql: db().sql, generate: generator.generate, mail: null, mailFrom: 'reports@acme.example', publicUrl: 'https://ledgerline.test', log: silentLog, now: () => clock });
  };
  const base = { templateSlug: 'monthly-activity', recipient: 'cfo@acme.example', delivery: 'portal', timeZone: 'Europe/Berlin', localTime: '06:00' };

  it('refuses a schedule it could not run and names the field', async () => {
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const refusal = (input: Record<string, unknown>) => workflow.schedules.create(tenantId, input, 'admin@acme.example').catch((e: unknown) => e);
    expect(await refusal({ ...base, cadence: 'weekly' })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'weekday' } });
    expect(await refusal({ ...base, cadence: 'monthly', dayOfMonth: 31 })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'dayOfMonth' } });
    expect(await refusal({ ...base, cadence: 'daily', timeZone: 'Europe/Atlantis' })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'timeZone' } });
    expect(await refusal({ ...base, cadence: 'daily', localTime: '24:00' })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'localTime' } });
    expect(await refusal({ ...base, cadence: 'daily', parameters: { period: '2026-01' } })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'parameters' } });
    expect(await refusal({ ...base, cadence: 'daily', recipient: undefined })).toMatchObject({ code: 'LL_INVALID_INPUT', details: { field: 'recipient' } });
    expect(await workflow.schedules.list(tenantId)).toEqual([]);
  });

  it('runs a daily schedule at 06:00 Berlin time on both sides of the spring change', async () => {
    clock = new Date('2026-03-28T12:00:00.000Z');
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const daily = await workflow.schedules.create(tenantId, { ...base, cadence: 'daily', parameters: { locale: 'de' } }, 'admin@acme.example');
    expect(daily).toMatchObject({ cadence: 'daily', format: 'pdf', parameters: { locale: 'de' }, nextRunAt: new Date('2026-03-29T04:00:00.000Z'), lastRunAt: null });
    clock = new Date('2026-03-29T03:59:00.000Z');
    expect(await workflow.schedules.runDue()).toBe(0);
    clock = new Date('2026-03-29T04:00:00.000Z');
    expect(await workflow.schedules.runDue()).toBe(1);
    expect(await workflow.schedules.list(tenantId)).toMatchObject([{ id: daily.id, nextRunAt: new Date('2026-03-30T04:00:00.000Z'), lastRunAt: clock }]);
    expect(await workflow.list(tenantId)).toMatchObject([{ requestedVia: 'schedule', scheduleId: daily.id, requestedBy: 'admin@acme.example', parameters: { period: '2026-03-28', timeZone: 'Europe/Berlin', locale: 'de' } }]);
    // Schedules and requests are one queue for all tenants: leave nothing due for the next test.
    await workflow.schedules.remove(tenantId, daily.id, 'admin@acme.example');
    expect(await workflow.processDue()).toBe(1);
  });

  it('requests the previous month on a monthly run, makes up missed runs once, and stops when removed', async () => {
    clock = new Date('2026-10-15T09:00:00.000Z');
    const { tenantId } = await seedInstallation(db());
    const workflow = workflowFor();
    const monthly = await workflow.schedules.create(tenantId, { ...base, cadence: 'monthly', dayOfMonth: 1, format: 'csv' }, 'admin@acme.example');
    // 1 November is after the autumn change: 06:00 CET is 05:00 UTC.
    expect(monthly.nextRunAt).toEqual(new Date('2026-11-01T05:00:00.000Z'));
    clock = new Date('2026-11-01T05:00:00.000Z');
    expect(await workflow.schedules.runDue()).toBe(1);
    expect(await workflow.schedules.runDue()).toBe(0);
    expect(await workflow.processDue()).toBe(1);
    expect(generator.calls).toEqual([{ templateSlug: 'monthly-activity', period: '2026-10', timeZone: 'Europe/Berlin', formats: ['csv'] }]);
    expect(await workflow.list(tenantId)).toMatchObject([{ status: 'delivered', format: 'csv', delivery: 'portal', recipient: 'cfo@acme.example' }]);

    // Nothing ran from December to mid-February: one run now, for January, then the next future slot.
    clock = new Date('2027-02-15T10:00:00.000Z');
    expect(await workflow.schedules.runDue()).toBe(1);
    expect(await workflow.schedules.runDue()).toBe(0);
    expect((await workflow.list(tenantId))[0]!.parameters).toMatchObject({ period: '2027-01' });
    expect((await workflow.schedules.list(tenantId))[0]!.nextRunAt).toEqual(new Date('2027-03-01T05:00:00.000Z'));

    await workflow.schedules.remove(tenantId, monthly.id, 'admin@acme.example');
    await expect(workflow.schedules.remove(tenantId, monthly.id, 'admin@acme.example')).rejects.toMatchObject({ code: 'LL_NOT_FOUND' });
    clock = new Date('2027-04-02T00:00:00.000Z');
    expect(await workflow.schedules.runDue()).toBe(0);
    expect(await workflow.schedules.list(tenantId)).toEqual([]);

    const kinds = (await listEntries((s, p) => db().sql.query(s, p), tenantId, { limit: 1000 })).map((e) => e.kind);
    expect(kinds).toEqual(['schedule.created', 'report.requested', 'schedule.ran', 'report.generated', 'report.quality_checked', 'report.delivered', 'report.requested', 'schedule.ran', 'schedule.removed']);
    const ran = await listEntries((s, p) => db().sql.query(s, p), tenantId, { kind: 'schedule.ran' });
    expect(ran.map((e) => [e.body.period, e.body.slotAt, e.body.nextRunAt])).toEqual([
      ['2026-10', '2026-11-01T05:00:00.000Z', '2026-12-01T05:00:00.000Z'],
      ['2027-01', '2026-12-01T05:00:00.000Z', '2027-03-01T05:00:00.000Z'],
    ]);
  });
});
