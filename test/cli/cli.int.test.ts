/**
 * The `ledgerline` command as a user runs it: a real process, its exit codes and output, the
 * embedded database in a temporary data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../core/store/index.ts';
import { startScriptedSource, type RunningScriptedSource } from '../fixtures/scripted-source/server.ts';
import { installScripted } from '../sync/sync-harness.ts';
import { cli, runCli } from './run-cli.ts';

const scriptedManifest = fileURLToPath(new URL('../fixtures/scripted-source/plugin.manifest.json', import.meta.url));
const testKeyBase64 = Buffer.alloc(32, 42).toString('base64');

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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function signedDelivery(body: string, options: { secret?: string; at?: number } = {}): RequestInit {
  const at = options.at ?? Date.now();
  const signature = createHmac('sha256', options.secret ?? 'scripted-webhook-secret-not-real').update(`${at}.${body}`).digest('base64');
  return { method: 'POST', headers: { 'content-type': 'application/json', 'x-scripted-timestamp': String(at), 'x-scripted-signature': signature }, body };
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

  // Several processes, each opening the on-disk embedded database: on a busy machine that takes a while.
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
  }, 150_000);

  it('takes signed webhooks: stores them once, a worker applies them, forged and stale ones are refused', async () => {
    const dir = dataDir();
    const db = await openDatabase({ dataDir: dir });
    await db.migrate();
    const { installationId } = await installScripted(db, source.url, 'webhook-account');
    await db.close();
    const dbPort = await freePort();
    const served = await startServe({ LEDGERLINE_DATA_DIR: dir, LEDGERLINE_MANIFEST: scriptedManifest, LEDGERLINE_ENCRYPTION_KEY: testKeyBase64, LEDGERLINE_EMBEDDED_DB_PORT: String(dbPort) });
    try {
      const record = { id: 'w1', email: 'w1@example.com', name: 'Webhook One', createdAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-02T00:00:00.000Z', amount: '5.00' };
      const body = JSON.stringify([{ eventId: 'e-1', account: 'webhook-account', id: 'w1', action: 'upsert', occurredAt: record.updatedAt, record }]);
      const first = await fetch(`${served.url}/webhooks/scripted`, signedDelivery(body));
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ accepted: 1, duplicates: 0, unknownAccount: 0 });
      const again = await fetch(`${served.url}/webhooks/scripted`, signedDelivery(body));
      expect(await again.json()).toEqual({ accepted: 0, duplicates: 1, unknownAccount: 0 });

      const forged = await fetch(`${served.url}/webhooks/scripted`, signedDelivery(body, { secret: 'guessed' }));
      expect(forged.status).toBe(401);
      expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('LL_BAD_SIGNATURE');
      const stale = await fetch(`${served.url}/webhooks/scripted`, signedDelivery(body, { at: Date.now() - 10 * 60_000 }));
      expect(stale.status).toBe(401);
      const malformed = await fetch(`${served.url}/webhooks/scripted`, signedDelivery('{"not":"a list"}'));
      expect(malformed.status).toBe(400);
      expect((await fetch(`${served.url}/webhooks/nobody`, signedDelivery(body))).status).toBe(404);

      // The in-process worker applies the stored hint through the sync pipeline.
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${dbPort}/postgres` });
      await client.connect();
      try {
        let rows: { external_id: string; payload: unknown }[] = [];
        for (let i = 0; i < 100 && rows.length === 0; i++) {
          rows = (await client.query<{ external_id: string; payload: unknown }>(`select external_id, payload from source_record where installation_id = $1 and external_id = 'w1'`, [installationId])).rows;
          if (rows.length === 0) await new Promise((r) => setTimeout(r, 200));
        }
        expect(rows).toEqual([{ external_id: 'w1', payload: record }]);
        const hints = await client.query(`select event_id, outcome from refresh_hint where installation_id = $1`, [installationId]);
        expect(hints.rows).toEqual([{ event_id: 'e-1', outcome: 'applied' }]);
      } finally {
        await client.end();
      }
    } finally {
      expect(await stopped(served.child)).toBe(0);
    }
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
