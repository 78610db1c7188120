import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.ts';

describe('systemClock', () => {
  it('sleeps for the given time', async () => {
    const started = performance.now();
    await systemClock.sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(28);
  });

  it('rejects with the abort reason as soon as the signal aborts, and at once when already aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 10);
    const started = performance.now();
    await expect(systemClock.sleep(10_000, controller.signal)).rejects.toThrow('stop');
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(systemClock.sleep(10, AbortSignal.abort())).rejects.toThrow();
  });

  it('tells the time', () => {
    expect(Math.abs(systemClock.now().getTime() - Date.now())).toBeLessThan(50);
  });
});
