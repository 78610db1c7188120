/** The registry of `ledgerline` subcommands; each lives in its own file. */
export interface CommandOption {
  readonly type: 'string' | 'boolean';
  readonly doc: string;
  readonly valueName?: string;
}

export interface Command {
  readonly summary: string;
  readonly usage?: string;
  readonly options: Readonly<Record<string, CommandOption>>;
  run(values: Readonly<Record<string, string | boolean | undefined>>): Promise<number>;
}

export const commands: Readonly<Record<string, Command>> = {};
