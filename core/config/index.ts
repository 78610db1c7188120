/**
 * Every Ledgerline setting, in one zod schema read from the environment. Start-up fails with one
 * line naming the first bad setting; `settingsTable()` feeds `--help` and the README.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { z } from 'zod';
import { LedgerlineError } from '../errors/index.ts';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const postgresUrl = z
  .string()
  .refine((v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.pathname.length > 1;
    } catch {
      return false;
    }
  }, 'must be a postgres://user@host:port/database URL');

const encryptionKey = z.string().refine((v) => {
  const bytes = Buffer.from(v, 'base64');
  return bytes.length === 32 && bytes.toString('base64') === v.replace(/\s/g, '');
}, 'must be 32 random bytes, base64-encoded (e.g. `openssl rand -base64 32`)');

/** One entry per setting: the environment variable, its schema, default and meaning. */
export const settings = {
  NODE_ENV: {
    schema: z.enum(['development', 'production', 'test']),
    default: 'development',
    doc: 'production makes LEDGERLINE_ENCRYPTION_KEY, LEDGERLINE_ADMIN_TOKEN and LEDGERLINE_LEDGER_SIGNING_KEY mandatory.',
  },
  PORT: { schema: z.coerce.number().int().min(0).max(65535), default: '3000', doc: 'HTTP port of the server (0 picks a free port).' },
  HOST: { schema: z.string().min(1), default: '127.0.0.1', doc: 'Interface the server binds to; use 0.0.0.0 behind a proxy.' },
  PUBLIC_URL: {
    schema: z.url({ protocol: /^https?$/ }).optional(),
    default: undefined,
    doc: 'The URL platforms reach Ledgerline at (OAuth redirects, webhooks). Defaults to http://localhost:PORT.',
  },
  DATABASE_URL: {
    schema: postgresUrl.optional(),
    default: undefined,
    doc: 'PostgreSQL server to use. Unset: embedded PGlite persisted in LEDGERLINE_DATA_DIR.',
  },
  LEDGERLINE_DB_POOL_SIZE: {
    schema: z.coerce.number().int().min(1).max(500).optional(),
    default: undefined,
    doc: 'Connections each process keeps to the PostgreSQL server. Default: twice the CPU cores plus one (at least 4), so statements queue in the pool rather than in the CPU run queue; raise it when the server has more cores than this host.',
  },
  LEDGERLINE_DB_PREPARED_STATEMENTS: {
    schema: booleanFlag,
    default: 'true',
    doc: 'Run the hot statements (panel summaries) as named prepared statements, planned once per connection. Set false behind a connection pooler that cannot keep them (PgBouncer in transaction mode without max_prepared_statements).',
  },
  LEDGERLINE_DATA_DIR: {
    schema: z.string().min(1),
    default: './.ledgerline',
    doc: 'Directory for the embedded database and the development encryption key.',
  },
  LEDGERLINE_EMBEDDED_DB_PORT: {
    schema: z.coerce.number().int().min(0).max(65535),
    default: '0',
    doc: 'Loopback port the embedded database listens on (0 picks a free port; set one to connect with psql).',
  },
  LEDGERLINE_ENCRYPTION_KEY: {
    schema: encryptionKey.optional(),
    default: undefined,
    doc: 'AES-256-GCM key for stored OAuth tokens, base64 of 32 bytes. Required in production; in development one is generated into the data directory.',
  },
  LEDGERLINE_ADMIN_TOKEN: {
    schema: z.string().min(24, 'must be at least 24 characters').optional(),
    default: undefined,
    doc: 'Bearer token for the console and /api/v1. Required in production; unset in development means the loopback-bound console is open.',
  },
  LEDGERLINE_LEDGER_SIGNING_KEY: {
    schema: encryptionKey.optional(),
    default: undefined,
    doc: 'Ed25519 key (base64 of a 32-byte seed) that signs ledger checkpoints. Required in production; in development one is generated into the data directory.',
  },
  LEDGERLINE_LEDGER_CHECKPOINT_DIR: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Where signed checkpoints of each tenant\'s ledger head are written, outside the database (mount separate, append-only storage). Defaults to LEDGERLINE_DATA_DIR/ledger-checkpoints.',
  },
  LEDGERLINE_LEDGER_CHECKPOINT_SECONDS: {
    schema: z.coerce.number().int().min(1),
    default: '300',
    doc: 'How often serve and worker write a checkpoint for each tenant whose ledger grew.',
  },
  LEDGERLINE_LEDGER_ARCHIVE_DIR: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Where archived ledger segments are written and read back by verify (keep it as safe as the checkpoints). Defaults to LEDGERLINE_DATA_DIR/ledger-archive.',
  },
  LEDGERLINE_LEDGER_RETENTION_DAYS: {
    schema: z.coerce.number().int().min(1).optional(),
    default: undefined,
    doc: 'Ledger entries older than this many days are moved from the database into archive segments (still verified); unset keeps every entry in the database.',
  },
  LEDGERLINE_IDENTITY_INTERVAL_SECONDS: {
    schema: z.coerce.number().int().min(1),
    default: '60',
    doc: 'How often serve and worker re-resolve identities for tenants whose synced records changed.',
  },
  LEDGERLINE_SUMMARY_REFRESH_SECONDS: {
    schema: z.coerce.number().int().min(1),
    default: '30',
    doc: 'How often serve and worker recompute the summary snapshots that syncs, identity runs or time made out of date (a panel never shows an out-of-date snapshot: it computes afresh instead).',
  },
  LEDGERLINE_SMTP_URL: {
    schema: z.url({ protocol: /^smtps?$/ }).optional(),
    default: undefined,
    doc: 'SMTP server for e-mail notifications and e-mailed reports, e.g. smtp://user:password@mail.example.org:587 (smtps:// for implicit TLS). Unset: e-mail notifications fail visibly into the dead letter.',
  },
  LEDGERLINE_MAIL_FROM: { schema: z.string().min(3), default: 'Ledgerline <ledgerline@localhost>', doc: 'Sender of e-mail notifications and reports.' },
  LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS: {
    schema: booleanFlag,
    default: 'false',
    doc: 'Let trigger rules send webhooks to loopback, private or local addresses (refused by default so rules cannot reach internal services).',
  },
  LEDGERLINE_NOTIFY_INTERVAL_SECONDS: {
    schema: z.coerce.number().int().min(1),
    default: '5',
    doc: 'How often serve and worker evaluate trigger rules, deliver due notifications and escalate overdue ones.',
  },
  LEDGERLINE_REPORT_GENERATE_SLA_HOURS: {
    schema: z.coerce.number().positive().max(24 * 90),
    default: '4',
    doc: 'A requested report not delivered within this many hours escalates (the generation SLA).',
  },
  LEDGERLINE_REPORT_ACKNOWLEDGE_SLA_HOURS: {
    schema: z.coerce.number().positive().max(24 * 365),
    default: '72',
    doc: 'A delivered report not acknowledged within this many hours escalates (the acknowledgement SLA).',
  },
  LEDGERLINE_REPORT_LINK_TTL_HOURS: {
    schema: z.coerce.number().positive().max(24 * 90),
    default: '72',
    doc: 'How long a secure report link works.',
  },
  CHROMIUM_PATH: { schema: z.string().min(1), default: '/usr/bin/chromium', doc: 'The Chromium that prints reports to PDF (Debian: apt-get install chromium).' },
  LEDGERLINE_TRUST_PROXY: {
    schema: z.coerce.number().int().min(0).max(10),
    default: '0',
    doc: 'How many reverse proxies in front of Ledgerline may name the client address (X-Forwarded-For); 0 takes the TCP peer. Set it to the number of proxies you run, never more: the sign-in throttle and the secure-link log use that address.',
  },
  LEDGERLINE_AUTO_MIGRATE: { schema: booleanFlag, default: 'true', doc: 'Apply pending migrations when the server starts.' },
  LEDGERLINE_MANIFEST: { schema: z.string().min(1), default: './plugin.manifest.json', doc: 'Path of the plugin manifest.' },
  LEDGERLINE_INLINE_WORKER: {
    schema: z.enum(['auto', 'true', 'false'], { message: 'must be auto, true or false' }),
    default: 'auto',
    doc: '`serve` also runs a sync worker in-process: auto = only on the embedded database.',
  },
  LEDGERLINE_SYNC_CONCURRENCY: { schema: z.coerce.number().int().min(1).max(64), default: '2', doc: 'Sync jobs one worker process runs at once.' },
  LEDGERLINE_SYNC_INTERVAL_SECONDS: {
    schema: z.coerce.number().int().min(10),
    default: '900',
    doc: 'Default time between incremental runs of a stream (a stream may declare its own).',
  },
  LEDGERLINE_SYNC_LEASE_SECONDS: {
    schema: z.coerce.number().min(1).max(600),
    default: '30',
    doc: 'How long a stream stays leased to a worker that stopped heart-beating before another may take it over.',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'pino log level.',
  },
} as const;

type Settings = typeof settings;
type SettingValues = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

export interface Config {
  readonly env: SettingValues['NODE_ENV'];
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly databaseUrl: string | undefined;
  /** Connections to the PostgreSQL server per process (the store's default when unset). */
  readonly dbPoolSize: number | undefined;
  /** Whether hot statements run as named prepared statements on a PostgreSQL server. */
  readonly dbPreparedStatements: boolean;
  readonly dataDir: string;
  readonly embeddedDbPort: number;
  /** 32-byte key; in development it may have been generated into the data directory. */
  readonly encryptionKey: Buffer;
  readonly encryptionKeySource: 'environment' | 'data-dir';
  readonly adminToken: string | undefined;
  /** 32-byte Ed25519 seed signing ledger checkpoints. */
  readonly ledgerSigningKey: Buffer;
  readonly ledgerSigningKeySource: 'environment' | 'data-dir';
  readonly ledgerCheckpointDir: string;
  readonly ledgerCheckpointSeconds: number;
  readonly ledgerArchiveDir: string;
  readonly ledgerRetentionDays: number | undefined;
  readonly identityIntervalSeconds: number;
  readonly summaryRefreshSeconds: number;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly notifyIntervalSeconds: number;
  readonly allowPrivateWebhooks: boolean;
  readonly reportSla: { readonly generateHours: number; readonly acknowledgeHours: number };
  readonly reportLinkTtlHours: number;
  readonly chromiumPath: string;
  readonly trustProxy: number;
  readonly autoMigrate: boolean;
  readonly manifestPath: string;
  readonly logLevel: SettingValues['LOG_LEVEL'];
  readonly inlineWorker: boolean;
  readonly syncConcurrency: number;
  readonly syncIntervalSeconds: number;
  readonly syncLeaseSeconds: number;
  /** The raw environment, for plugin settings declared in the manifest. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

function configError(setting: string, message: string): LedgerlineError {
  return new LedgerlineError('LL_INVALID_CONFIG', `Invalid configuration: ${setting} ${message}`, { details: { field: setting } });
}

function readSettings(env: Readonly<Record<string, string | undefined>>): SettingValues {
  const out: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings) as [keyof Settings, Settings[keyof Settings]][]) {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? setting.default : raw;
    const parsed = (setting.schema as z.ZodType).safeParse(value);
    if (!parsed.success) throw configError(name, parsed.error.issues[0]?.message ?? 'is invalid');
    out[name] = parsed.data;
  }
  return out as SettingValues;
}

/** Reads, validates and completes the configuration. Throws LL_INVALID_CONFIG naming the setting. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const s = readSettings(env);
  const production = s.NODE_ENV === 'production';
  if (production && s.LEDGERLINE_ENCRYPTION_KEY === undefined) {
    throw configError('LEDGERLINE_ENCRYPTION_KEY', 'is required when NODE_ENV=production');
  }
  if (production && s.LEDGERLINE_ADMIN_TOKEN === undefined) {
    throw configError('LEDGERLINE_ADMIN_TOKEN', 'is required when NODE_ENV=production');
  }
  if (production && s.LEDGERLINE_LEDGER_SIGNING_KEY === undefined) {
    throw configError('LEDGERLINE_LEDGER_SIGNING_KEY', 'is required when NODE_ENV=production');
  }
  const dataDir = resolve(s.LEDGERLINE_DATA_DIR);
  const key =
    s.LEDGERLINE_ENCRYPTION_KEY === undefined
      ? { bytes: developmentKey(dataDir, 'encryption.key', 'LEDGERLINE_ENCRYPTION_KEY'), source: 'data-dir' as const }
      : { bytes: Buffer.from(s.LEDGERLINE_ENCRYPTION_KEY, 'base64'), source: 'environment' as const };
  const signing =
    s.LEDGERLINE_LEDGER_SIGNING_KEY === undefined
      ? { bytes: developmentKey(dataDir, 'ledger-signing.key', 'LEDGERLINE_LEDGER_SIGNING_KEY'), source: 'data-dir' as const }
      : { bytes: Buffer.from(s.LEDGERLINE_LEDGER_SIGNING_KEY, 'base64'), source: 'environment' as const };
  return {
    env: s.NODE_ENV,
    port: s.PORT,
    host: s.HOST,
    publicUrl: (s.PUBLIC_URL ?? `http://localhost:${s.PORT}`).replace(/\/$/, ''),
    databaseUrl: s.DATABASE_URL,
    dbPoolSize: s.LEDGERLINE_DB_POOL_SIZE,
    dbPreparedStatements: s.LEDGERLINE_DB_PREPARED_STATEMENTS,
    dataDir,
    embeddedDbPort: s.LEDGERLINE_EMBEDDED_DB_PORT,
    encryptionKey: key.bytes,
    encryptionKeySource: key.source,
    adminToken: s.LEDGERLINE_ADMIN_TOKEN,
    ledgerSigningKey: signing.bytes,
    ledgerSigningKeySource: signing.source,
    ledgerCheckpointDir: resolve(s.LEDGERLINE_LEDGER_CHECKPOINT_DIR ?? join(dataDir, 'ledger-checkpoints')),
    ledgerCheckpointSeconds: s.LEDGERLINE_LEDGER_CHECKPOINT_SECONDS,
    ledgerArchiveDir: resolve(s.LEDGERLINE_LEDGER_ARCHIVE_DIR ?? join(dataDir, 'ledger-archive')),
    ledgerRetentionDays: s.LEDGERLINE_LEDGER_RETENTION_DAYS,
    identityIntervalSeconds: s.LEDGERLINE_IDENTITY_INTERVAL_SECONDS,
    summaryRefreshSeconds: s.LEDGERLINE_SUMMARY_REFRESH_SECONDS,
    smtpUrl: s.LEDGERLINE_SMTP_URL,
    mailFrom: s.LEDGERLINE_MAIL_FROM,
    notifyIntervalSeconds: s.LEDGERLINE_NOTIFY_INTERVAL_SECONDS,
    allowPrivateWebhooks: s.LEDGERLINE_ALLOW_PRIVATE_WEBHOOKS,
    reportSla: { generateHours: s.LEDGERLINE_REPORT_GENERATE_SLA_HOURS, acknowledgeHours: s.LEDGERLINE_REPORT_ACKNOWLEDGE_SLA_HOURS },
    reportLinkTtlHours: s.LEDGERLINE_REPORT_LINK_TTL_HOURS,
    chromiumPath: s.CHROMIUM_PATH,
    trustProxy: s.LEDGERLINE_TRUST_PROXY,
    autoMigrate: s.LEDGERLINE_AUTO_MIGRATE,
    manifestPath: resolve(s.LEDGERLINE_MANIFEST),
    logLevel: s.LOG_LEVEL,
    inlineWorker: s.LEDGERLINE_INLINE_WORKER === 'auto' ? s.DATABASE_URL === undefined : s.LEDGERLINE_INLINE_WORKER === 'true',
    syncConcurrency: s.LEDGERLINE_SYNC_CONCURRENCY,
    syncIntervalSeconds: s.LEDGERLINE_SYNC_INTERVAL_SECONDS,
    syncLeaseSeconds: s.LEDGERLINE_SYNC_LEASE_SECONDS,
    environment: env,
  };
}

/** A development key lives next to the embedded database so restarts can still use it. */
function developmentKey(dataDir: string, name: string, setting: string): Buffer {
  const file = join(dataDir, name);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      // Another process created it first; read theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const parsed = encryptionKey.safeParse(readFileSync(file, 'utf8').trim());
  if (!parsed.success) throw configError(setting, `could not be read from ${file}: ${parsed.error.issues[0]?.message}`);
  return Buffer.from(parsed.data, 'base64');
}

/** The settings as rows (name, default, meaning) for `--help` and the README. */
export function settingsTable(): { name: string; default: string; doc: string }[] {
  return Object.entries(settings).map(([name, s]) => ({ name, default: s.default ?? '', doc: s.doc }));
}
