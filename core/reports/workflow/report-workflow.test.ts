import { describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../contract/index.ts';
import { scheduleReportWork, type ReportWorker } from './report-workflow.ts';

describe('the report worker round', () => {
  it('runs the schedules, drains due requests batch by batch, then escalates, and logs a failed round', async () => {
    const steps: string[] = [];
    let batches = [5, 2, 0];
    let failNext = false;
    const errors: string[] = [];
    const log: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (_f, message) => void errors.push(message ?? '') };
    const workflow: ReportWorker = {
      schedules: {
        runDue: () => {
          steps.push('schedules');
          if (failNext) return Promise.reject(new Error('database unavailable'));
          return Promise.resolve(1);
        },
      },
      processDue: () => {
        const claimed = batches.shift() ?? 0;
        steps.push(`process:${claimed}`);
        return Promise.resolve(claimed);
      },
      escalateOverdue: () => {
        steps.push('escalate');
        return Promise.resolve(0);
      },
    };
    const work = scheduleReportWork(workflow, 60_000, log);
    await vi.waitFor(() => expect(steps).toContain('escalate'));
    await work.stop();
    expect(steps).toEqual(['schedules', 'process:5', 'process:2', 'process:0', 'escalate']);
    expect(errors).toEqual([]);

    steps.length = 0;
    batches = [0];
    failNext = true;
    const failing = scheduleReportWork(workflow, 60_000, log);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    await failing.stop();
    expect(steps).toEqual(['schedules']);
    expect(errors).toEqual(['report processing failed']);
  });
});
