/**
 * The `ledgerline` command as a user runs it: a real process, its exit codes and output, the
 * embedded database in a temporary data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../core/store/index.ts';
import { startScriptedSource, type RunningScriptedSource } from '../fixtures/scripted-source/server.ts';
import { installScripted } from '../sync/sync-harness.ts';

const cli = fileURLToPath(new URL('../../core/cli/main.ts', import.meta.url));
const scriptedManifest = fileURLToPath(new URL('../fixtures/scripted-source/plugin.manifest.json', import.meta.url));
const testKeyBase64 = Buffer.alloc(32, 42).toString('base64');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string | undefined>): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, DATABASE_URL: undefined, LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function startServe(env: Record<string, string | undefined>): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, DATABASE_URL: undefined, LOG_LEVEL: 'warn', PORT: '0', ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /running at (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

function stopped(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('ledgerline command', () => {
  const dirs: string[] = [];
  const dataDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'll-cli-'));
    dirs.push(dir);
    return dir;
  };
  let source: RunningScriptedSource;
  beforeAll(async () => {
    source = await startScriptedSource({ records: 1_200, pageSize: 300, deleteEvery: 100 });
  });
  afterAll(async () => {
    await source?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('stops on bad configuration with one line naming the setting (exit 78)', async () => {
    const result = await runCli(['status'], { LEDGERLINE_DATA_DIR: dataDir(), DATABASE_URL: 'mysql://root@localhost/app' });
    expect(result.code).toBe(78);
    expect(result.stderr.trim()).toBe('Invalid configuration: DATABASE_URL must be a postgres://user@host:port/database URL');
  });

  it('rejects unknown flags and malformed arguments with usage (exit 64)', async () => {
    const unknown = await runCli(['sync', '--everything'], { LEDGERLINE_DATA_DIR: dataDir() });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/Unknown option '--everything'/);
    const malformed = await runCli(['sync', '--installation', '42'], { LEDGERLINE_DATA_DIR: dataDir() });
    expect(malformed.code).toBe(64);
    expect(malformed.stderr).toMatch(/--installation: must be an installation id/);
  });

  it('syncs an installation with progress, then status shows the stream, its count and no gap', async () => {
    const dir = dataDir();
    const env = { LEDGERLINE_DATA_DIR: dir, LEDGERLINE_MANIFEST: scriptedManifest, LEDGERLINE_ENCRYPTION_KEY: testKeyBase64 };
    const db = await openDatabase({ dataDir: dir });
    await db.migrate();
    const { installationId } = await installScripted(db, source.url, 'cli-account');
    await db.close();

    const sync = await runCli(['sync', '--installation', installationId], env);
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toContain(`${installationId.slice(0, 8)}/records: incremental sync from record 0`);
    expect(sync.stdout).toMatch(/records: done: 1,200 records, 12 deleted, 0 rejected; source 1188, stored 1188/);

    const status = await runCli(['status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/scripted cli-account "Test installation"\s+active/);
    expect(status.stdout).toMatch(/records\s+idle\s+1,200 records.*at record 1200\s+gap 0 \(source 1,188, stored 1,188\)/);
    const json = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { tenants: { installations: { streams: { stream: string; status: string }[] }[] }[] };
    expect(json.tenants[0]!.installations[0]!.streams).toMatchObject([{ stream: 'records', status: 'idle' }]);
  });

  it('serves the console on the embedded database, and what was written survives a restart', async () => {
    const env = { LEDGERLINE_DATA_DIR: dataDir() };
    const first = await startServe(env);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    const created = await fetch(`${first.url}/api/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'kept', name: 'Kept across restarts' }),
    });
    expect(created.status).toBe(201);
    expect(await stopped(first.child)).toBe(0);

    const second = await startServe(env);
    try {
      const tenants = (await (await fetch(`${second.url}/api/v1/tenants`)).json()) as { tenants: { slug: string }[] };
      expect(tenants.tenants.map((t) => t.slug).sort()).toEqual(['default', 'kept']);
      const page = await (await fetch(`${second.url}/`)).text();
      expect(page).toContain('Kept across restarts');
    } finally {
      expect(await stopped(second.child)).toBe(0);
    }
  });
});
