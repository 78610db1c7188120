/**
 * The one way Ledgerline makes a logger: pino, JSON lines, with secrets redacted by path so a
 * careless `log.info({ req })` or `log.error({ headers })` cannot write a token to disk.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger, LevelWithSilent } from 'pino';

export type Logger = PinoLogger;

/** Paths pino blanks out wherever they appear one or two levels deep. */
export const redactedPaths: readonly string[] = [
  'authorization',
  'cookie',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'clientSecret',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.clientSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
];

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Component name written on every line ("server", "sync-worker"). */
  readonly name?: string;
  /** Where lines go; stdout when omitted. Tests pass a stream they can read back. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const config = {
    level: options.level,
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    ...(options.name === undefined ? {} : { name: options.name }),
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
