/**
 * Background work a process repeats on an interval (ledger checkpoints, identity resolution,
 * notifications): runs at once and then every `everyMs`, never two rounds at a time, logs each
 * failure as an error (nothing fails silently), and on stop waits for the round in progress.
 */
import type { Logger } from '../contract/index.ts';
import { toLedgerlineError } from '../errors/index.ts';

export interface Periodic {
  stop(): Promise<void>;
}

export function runPeriodically(what: string, everyMs: number, log: Logger, round: (stopping: () => boolean) => Promise<void>, options: { finalRound?: boolean } = {}): Periodic {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = (): void => {
    running = running.then(() => round(() => stopped)).catch((error: unknown) => log.error({ err: toLedgerlineError(error).message }, `${what} failed`));
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (options.finalRound) tick();
      await running;
    },
  };
}
