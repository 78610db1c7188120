/**
 * Batches a hot statement that many requests make at once (every panel view reads a snapshot and
 * appends to its tenant's ledger) into one statement per batch: a few batches are in flight at a
 * time, and what callers ask for while they are waits and goes together in the next. An idle
 * server sends each input at once, alone; a busy one sends one statement for many callers, so each
 * pays a share of one round trip and of one statement's start-up (or one commit) instead of its own.
 *
 * A batch's failure (the statement failed) fails each of its callers with that error; nothing a
 * caller does with its own answer afterwards can fail anyone else's.
 */
import { LedgerlineError } from '../errors/index.ts';

export interface BatcherOptions {
  /** Batches in flight at once (default 2): the connections the statement may hold, leaving the rest of the pool to other work. */
  readonly inFlight?: number;
  /** Most inputs one batch carries (default 100). */
  readonly maxBatch?: number;
}

interface Waiting<In, Out> {
  readonly input: In;
  readonly resolve: (output: Out) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * `run(inputs)` must answer one output per input, in the same order. Returns the function callers
 * use, one input at a time.
 */
export function createBatcher<In, Out>(run: (inputs: readonly In[]) => Promise<readonly Out[]>, options: BatcherOptions = {}): (input: In) => Promise<Out> {
  const inFlight = options.inFlight ?? 2;
  const maxBatch = options.maxBatch ?? 100;
  const queue: Waiting<In, Out>[] = [];
  let running = 0;

  async function send(batch: readonly Waiting<In, Out>[]): Promise<void> {
    try {
      const outputs = await run(batch.map((w) => w.input));
      if (outputs.length !== batch.length) throw new LedgerlineError('LL_INTERNAL', `a batched statement answered ${outputs.length} of ${batch.length} inputs`);
      batch.forEach((w, i) => w.resolve(outputs[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }

  function startNext(): void {
    while (running < inFlight && queue.length > 0) {
      running++;
      void send(queue.splice(0, maxBatch)).finally(() => {
        running--;
        startNext();
      });
    }
  }

  return (input) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      startNext();
    });
}
