import { z } from 'zod';
import { createProgressPrinter } from '../sync/index.ts';
import { parseArguments, type Command } from './commands.ts';
import { openRuntime } from './runtime.ts';
import { untilSignal } from './process-signals.ts';

const SyncArgs = z.strictObject({
  installation: z.uuid({ message: 'must be an installation id (a UUID; see `ledgerline status`)' }).optional(),
  stream: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a stream name such as contacts').optional(),
  full: z.boolean().optional(),
});

export const syncCommand: Command = {
  summary: 'Run syncs now, in the foreground, with live progress',
  usage: '[--installation ID] [--stream NAME] [--full]',
  options: {
    installation: { type: 'string', valueName: 'id', doc: 'Only this installation (default: every active one)' },
    stream: { type: 'string', valueName: 'name', doc: 'Only this stream' },
    full: { type: 'boolean', doc: 'Start over from the beginning instead of the last checkpoint' },
  },
  async run(values) {
    const args = parseArguments(SyncArgs, values);
    const runtime = await openRuntime({ name: 'sync', migrate: true });
    const printer = createProgressPrinter({ isTTY: process.stdout.isTTY === true, write: (text) => process.stdout.write(text) });
    const stop = untilSignal();
    try {
      const targets = await runtime.sync.engine.targets({ ...(args.installation ? { installationId: args.installation } : {}) });
      if (targets.length === 0) {
        console.log(args.installation ? `no active installation ${args.installation}` : 'no active installations to sync (install a platform first; see README)');
        return args.installation ? 1 : 0;
      }
      const summaries = await runtime.sync.engine.runNow(
        {
          ...(args.installation ? { installationId: args.installation } : {}),
          ...(args.stream ? { stream: args.stream } : {}),
          full: args.full ?? false,
        },
        printer,
        stop.signal,
      );
      const failed = summaries.filter((s) => s.outcome === 'failed').length;
      const busy = summaries.filter((s) => s.outcome === 'busy').length;
      if (failed > 0) return 1;
      return busy > 0 ? 75 : 0;
    } finally {
      stop.dispose();
      await runtime.close();
    }
  },
};
