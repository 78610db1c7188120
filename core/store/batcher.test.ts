import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.ts';

/** A statement whose batches are recorded and answered only when the test says so. */
function heldRead() {
  const batches: { inputs: readonly number[]; answer: (outputs: readonly string[]) => void; fail: (error: Error) => void }[] = [];
  const read = (inputs: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      batches.push({ inputs, answer: resolve, fail: reject });
    });
  return { batches, read };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('batched statements', () => {
  it('sends a read at once while fewer batches than allowed are in flight, and batches what waits behind them', async () => {
    const { batches, read } = heldRead();
    const ask = createBatcher(read, { inFlight: 2 });
    const first = ask(1);
    const second = ask(2);
    const waiting = [3, 4, 5].map((n) => ask(n));
    await settle();
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2]]);
    batches[0]!.answer(['one']);
    await settle();
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2], [3, 4, 5]]);
    batches[2]!.answer(['three', 'four', 'five']);
    batches[1]!.answer(['two']);
    expect(await Promise.all([first, second, ...waiting])).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('carries at most maxBatch inputs in one batch', async () => {
    const { batches, read } = heldRead();
    const ask = createBatcher(read, { inFlight: 1, maxBatch: 2 });
    const answers = [1, 2, 3, 4].map((n) => ask(n));
    await settle();
    batches[0]!.answer(['a']);
    await settle();
    batches[1]!.answer(['b', 'c']);
    await settle();
    batches[2]!.answer(['d']);
    expect(batches.map((b) => b.inputs)).toEqual([[1], [2, 3], [4]]);
    expect(await Promise.all(answers)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('fails every caller of a failed batch with its error, and only them', async () => {
    const { batches, read } = heldRead();
    const ask = createBatcher(read, { inFlight: 1 });
    const alone = ask(1);
    const together = [ask(2), ask(3)];
    await settle();
    batches[0]!.answer(['one']);
    await settle();
    batches[1]!.fail(new Error('connection terminated'));
    await expect(alone).resolves.toBe('one');
    for (const answer of together) await expect(answer).rejects.toThrow('connection terminated');
    const after = ask(4);
    await settle();
    batches[2]!.answer(['four']);
    await expect(after).resolves.toBe('four');
  });

  it('refuses a batch answered with fewer outputs than inputs instead of leaving callers without one', async () => {
    const { batches, read } = heldRead();
    const ask = createBatcher(read, { inFlight: 1 });
    const first = ask(1);
    const rest = [ask(2), ask(3)];
    await settle();
    batches[0]!.answer(['one']);
    await settle();
    batches[1]!.answer(['two']);
    await expect(first).resolves.toBe('one');
    for (const answer of rest) await expect(answer).rejects.toThrow('a batched statement answered 1 of 2 inputs');
  });
});
