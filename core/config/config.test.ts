import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLedgerlineError } from '../errors/index.ts';
import { loadConfig, settingsTable } from './index.ts';

const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'll-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configErrorOf(env: Record<string, string>): { field: string | undefined; message: string } {
  try {
    loadConfig({ LEDGERLINE_DATA_DIR: dataDir(), ...env });
  } catch (error) {
    if (isLedgerlineError(error, 'LL_INVALID_CONFIG')) return { field: error.details.field, message: error.message };
    throw error;
  }
  throw new Error('expected a configuration error');
}

const key = Buffer.alloc(32, 7).toString('base64');

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ LEDGERLINE_DATA_DIR: dataDir() });
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.inlineWorker).toBe(true);
    expect(config.encryptionKeySource).toBe('data-dir');
  });

  it.each([
    [{ DATABASE_URL: 'mysql://root@localhost/db' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://localhost' }, 'DATABASE_URL'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ LEDGERLINE_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'LEDGERLINE_ENCRYPTION_KEY'],
    [{ LEDGERLINE_ADMIN_TOKEN: 'short' }, 'LEDGERLINE_ADMIN_TOKEN'],
    [{ LEDGERLINE_AUTO_MIGRATE: 'maybe' }, 'LEDGERLINE_AUTO_MIGRATE'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL'],
    [{ LEDGERLINE_DB_POOL_SIZE: '0' }, 'LEDGERLINE_DB_POOL_SIZE'],
    [{ LEDGERLINE_DB_POOL_SIZE: 'many' }, 'LEDGERLINE_DB_POOL_SIZE'],
    [{ LEDGERLINE_DB_PREPARED_STATEMENTS: 'sometimes' }, 'LEDGERLINE_DB_PREPARED_STATEMENTS'],
  ])('rejects %j with one line naming %s', (env, setting) => {
    const error = configErrorOf(env);
    expect(error.field).toBe(setting);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${setting} `));
    expect(error.message).not.toContain('\n');
  });

  it('refuses production without an encryption key, an admin token or a ledger signing key', () => {
    expect(configErrorOf({ NODE_ENV: 'production' }).field).toBe('LEDGERLINE_ENCRYPTION_KEY');
    expect(configErrorOf({ NODE_ENV: 'production', LEDGERLINE_ENCRYPTION_KEY: key }).field).toBe('LEDGERLINE_ADMIN_TOKEN');
    expect(configErrorOf({ NODE_ENV: 'production', LEDGERLINE_ENCRYPTION_KEY: key, LEDGERLINE_ADMIN_TOKEN: 'x'.repeat(32) }).field).toBe('LEDGERLINE_LEDGER_SIGNING_KEY');
    const signing = Buffer.alloc(32, 8).toString('base64');
    const config = loadConfig({ NODE_ENV: 'production', LEDGERLINE_ENCRYPTION_KEY: key, LEDGERLINE_ADMIN_TOKEN: 'x'.repeat(32), LEDGERLINE_LEDGER_SIGNING_KEY: signing });
    expect(config.encryptionKey.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(config.encryptionKeySource).toBe('environment');
    expect(config.ledgerSigningKey.equals(Buffer.alloc(32, 8))).toBe(true);
    expect(configErrorOf({ LEDGERLINE_LEDGER_SIGNING_KEY: 'short' }).field).toBe('LEDGERLINE_LEDGER_SIGNING_KEY');
  });

  it('generates a development key once, private to the owner, and reuses it after a restart', () => {
    const dir = dataDir();
    const first = loadConfig({ LEDGERLINE_DATA_DIR: dir });
    const second = loadConfig({ LEDGERLINE_DATA_DIR: dir });
    expect(first.encryptionKey).toHaveLength(32);
    expect(second.encryptionKey.equals(first.encryptionKey)).toBe(true);
    const file = join(dir, 'encryption.key');
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first.encryptionKey)).toBe(true);
  });

  it('documents every setting in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const setting of settingsTable()) expect(readme, setting.name).toContain(`\`${setting.name}\``);
  });
});
