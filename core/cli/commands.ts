/** The registry of `ledgerline` subcommands; each lives in its own file. */
import type { z } from 'zod';
import { invalidInput } from '../errors/index.ts';
export interface CommandOption {
  readonly type: 'string' | 'boolean';
  readonly doc: string;
  readonly valueName?: string;
}

export interface Command {
  readonly summary: string;
  readonly usage?: string;
  readonly options: Readonly<Record<string, CommandOption>>;
  /** Words after the command (a subcommand, a record), for commands that take them. */
  readonly positionals?: { readonly min: number; readonly max: number };
  run(values: Readonly<Record<string, string | boolean | undefined>>, positionals: readonly string[]): Promise<number>;
}

/** Validates parsed flags with a command's schema; errors name the flag (`--installation: …`). */
export function parseArguments<T>(schema: z.ZodType<T>, values: Readonly<Record<string, unknown>>): T {
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  throw invalidInput('arguments', parsed.error.issues.map((issue) => ({ ...issue, path: [`--${String(issue.path[0] ?? '')}`] })));
}

import { archiveCommand } from './archive-command.ts';
import { hubspotProjectCommand } from './hubspot-project-command.ts';
import { identityCommand } from './identity-command.ts';
import { migrateCommand } from './migrate-command.ts';
import { reportCommand } from './report-command.ts';
import { serveCommand } from './serve-command.ts';
import { summariesCommand } from './summaries-command.ts';
import { statusCommand } from './status-command.ts';
import { syncCommand } from './sync-command.ts';
import { verifyCommand } from './verify-command.ts';
import { workerCommand } from './worker-command.ts';

export const commands: Readonly<Record<string, Command>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  status: statusCommand,
  sync: syncCommand,
  worker: workerCommand,
  verify: verifyCommand,
  archive: archiveCommand,
  identity: identityCommand,
  report: reportCommand,
  summaries: summariesCommand,
  'hubspot-project': hubspotProjectCommand,
};
