import { describe, expect, it } from 'vitest';
import type { Logger } from '../contract/index.ts';
import { runPeriodically } from './periodic.ts';

function recordingLog(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const log = { errors, error: (_o: unknown, msg: string) => void errors.push(msg), warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => log };
  return log;
}

describe('periodic background work', () => {
  it('runs at once and on every interval, one round at a time, logs each failure, and stop waits for the round in progress', async () => {
    const log = recordingLog();
    let active = 0;
    let maxActive = 0;
    let rounds = 0;
    const periodic = runPeriodically('test work', 20, log, async () => {
      rounds += 1;
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 50));
      active -= 1;
      if (rounds === 2) throw new Error('boom');
    });
    await new Promise((r) => setTimeout(r, 180));
    await periodic.stop();
    expect(active).toBe(0);
    expect(maxActive).toBe(1);
    expect(rounds).toBeGreaterThanOrEqual(3);
    expect(log.errors).toEqual(['test work failed']);
  });

  it('runs one last round on stop when asked to', async () => {
    let rounds = 0;
    const periodic = runPeriodically('final', 60_000, recordingLog(), () => Promise.resolve(void (rounds += 1)), { finalRound: true });
    await periodic.stop();
    expect(rounds).toBe(2);
  });
});
