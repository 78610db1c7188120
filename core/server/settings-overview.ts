/**
 * The settings page's rows: every setting from the config schema, whether it is set, and its value
 * only when the value is known to be harmless. Anything not on the list below shows as set or not
 * set, so a secret added to the schema later stays hidden by default.
 */
import { settings } from '../config/index.ts';
import type { ServerConfig } from './server-deps.ts';

const valuesShown: ReadonlySet<string> = new Set([
  'NODE_ENV',
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'LEDGERLINE_DATA_DIR',
  'LEDGERLINE_EMBEDDED_DB_PORT',
  'LEDGERLINE_AUTO_MIGRATE',
  'LEDGERLINE_MANIFEST',
  'LEDGERLINE_INLINE_WORKER',
  'LEDGERLINE_SYNC_CONCURRENCY',
  'LEDGERLINE_SYNC_INTERVAL_SECONDS',
  'LEDGERLINE_SYNC_LEASE_SECONDS',
  'LOG_LEVEL',
]);

export interface SettingRow {
  readonly name: string;
  /** `set`: from the environment; `default`: unset, a default applies; `not set`: unset, no default. */
  readonly state: 'set' | 'default' | 'not set';
  /** The effective value when it is safe to show; null for secrets and unset optional settings. */
  readonly value: string | null;
  readonly secret: boolean;
  readonly doc: string;
}

export function settingsOverview(config: ServerConfig): SettingRow[] {
  return Object.entries(settings).map(([name, setting]) => {
    const raw = config.environment[name];
    const fromEnvironment = raw !== undefined && raw !== '';
    const fallback: string | undefined = setting.default;
    const secret = !valuesShown.has(name);
    const state = fromEnvironment ? 'set' : fallback === undefined ? 'not set' : 'default';
    const effective = fromEnvironment ? raw : fallback;
    return { name, state, value: secret ? null : (effective ?? null), secret, doc: setting.doc };
  });
}

/** Extra facts the page states in words (where the encryption key came from). */
export function encryptionKeyNote(config: ServerConfig): string {
  return config.encryptionKeySource === 'environment'
    ? 'The encryption key comes from LEDGERLINE_ENCRYPTION_KEY.'
    : 'The encryption key was generated into the data directory (development only; production requires LEDGERLINE_ENCRYPTION_KEY).';
}
