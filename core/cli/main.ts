#!/usr/bin/env node
/**
 * The `ledgerline` command. Each subcommand validates its arguments strictly (an unknown flag is an
 * error, not ignored) and configuration errors end the process with one line naming the setting.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LedgerlineError, toLedgerlineError } from '../errors/index.ts';
import { settingsTable } from '../config/index.ts';
import { commands, type Command } from './commands.ts';

const exitCodes = { usage: 64, config: 78, failure: 1 } as const;

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: ledgerline <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `ledgerline <command> --help` for its options, `ledgerline help settings` for configuration.',
  ].join('\n');
}

function commandHelp(name: string, command: Command): string {
  const options = Object.entries(command.options).map(([flag, o]) => {
    const value = o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : '';
    return `  --${flag}${value}`.padEnd(32) + o.doc;
  });
  return [`Usage: ledgerline ${name} ${command.usage ?? '[options]'}`, '', command.summary, '', 'Options:', ...options, '  --help'.padEnd(32) + 'Show this help'].join('\n');
}

function settingsHelp(): string {
  return [
    'Settings (environment variables):',
    ...settingsTable().map((s) => `  ${s.name}${s.default ? ` (default ${s.default})` : ''}\n      ${s.doc}`),
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (rest[0] === 'settings') console.log(settingsHelp());
    else console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`ledgerline: unknown command '${name}'\n\n${usage()}`);
    return exitCodes.usage;
  }
  const config: ParseArgsConfig = {
    args: [...rest],
    strict: true,
    allowPositionals: command.positionals !== undefined,
    options: {
      help: { type: 'boolean' },
      ...Object.fromEntries(Object.entries(command.options).map(([flag, o]) => [flag, { type: o.type }])),
    },
  };
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs(config);
    values = parsed.values as Record<string, string | boolean | undefined>;
    positionals = parsed.positionals;
    const range = command.positionals ?? { min: 0, max: 0 };
    if (!values.help && (positionals.length < range.min || positionals.length > range.max)) {
      throw new Error(positionals.length < range.min ? 'missing arguments' : `unexpected argument '${positionals[range.max]}'`);
    }
  } catch (error) {
    console.error(`ledgerline ${name}: ${(error as Error).message}\n\n${commandHelp(name, command)}`);
    return exitCodes.usage;
  }
  if (values.help) {
    console.log(commandHelp(name, command));
    return 0;
  }
  try {
    return await command.run(values, positionals);
  } catch (thrown) {
    const error = toLedgerlineError(thrown);
    if (error.code === 'LL_INVALID_CONFIG') {
      console.error(error.message);
      return exitCodes.config;
    }
    if (error.code === 'LL_INVALID_INPUT') {
      console.error(`ledgerline ${name}: ${error.message}`);
      return exitCodes.usage;
    }
    console.error(`ledgerline ${name}: ${error.code}: ${error.message}`);
    if (!(thrown instanceof LedgerlineError) && process.env.LOG_LEVEL === 'debug') console.error(thrown);
    return exitCodes.failure;
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
