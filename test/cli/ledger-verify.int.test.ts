/**
 * `ledgerline verify` as an auditor runs it: after the demo has installed and synced the HubSpot
 * sandbox, every chain is intact; after someone with database superuser rights rewrites an entry
 * behind Ledgerline's back, verify exits 1 and names it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../core/store/index.ts';
import { cli, runCli } from './run-cli.ts';

/** Quiet runs: only errors are logged, so stderr carries only what the command itself says. */
const run = (args: string[], env: Record<string, string>) => runCli(args, { LOG_LEVEL: 'error', ...env });

/** Serves until the demo's backfill has put activities on the ledger, then stops. */
async function serveUntilSynced(env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [cli, 'serve'], { env: { ...process.env, DATABASE_URL: undefined, LOG_LEVEL: 'warn', PORT: '0', LEDGERLINE_LEDGER_CHECKPOINT_SECONDS: '1', ...env } });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /running at (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const page = (await (await fetch(`${url}/api/v1/tenants/default/ledger?kind=activity&limit=1`)).json()) as { entries: unknown[] };
    if (page.entries.length > 0) break;
    if (Date.now() > deadline) throw new Error('no activity reached the ledger within a minute');
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 1500));
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe('ledgerline verify', () => {
  it('reports intact chains, then names the entry a superuser rewrote and exits 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'll-verify-'));
    const env = { LEDGERLINE_DATA_DIR: dataDir };
    await serveUntilSynced(env);

    const intact = await run(['verify'], env);
    expect(intact.stderr).toBe('');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^default: [\d,]+ of [\d,]+ entries verified, \d+ signed checkpoints? \(newest at entry [\d,]+\) — intact$/m);
    expect(intact.stdout).toContain('All chains intact.');

    // Identity: resolve now, and explain a synced contact.
    const resolved = await run(['identity', 'resolve'], env);
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toMatch(/^default: \d+ records → \d+ profiles \(\d+ merged, \d+ split\), \d+ to review$/m);
    const explained = await run(['identity', 'explain', '--tenant', 'default', 'contact/1000001'], env);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/^[0-9a-f-]{36}\/contact\/1000001 belongs to person profile [0-9a-f-]{36} \(.+\), named after /m);
    expect((await run(['identity', 'explain', 'contact/1'], env)).code).toBe(64);

    // Erasure is confirmed explicitly, names what it destroyed, and the chain still verifies.
    const record = /^([0-9a-f-]{36}\/contact\/1000001) belongs/m.exec(explained.stdout)![1]!;
    const unconfirmed = await run(['identity', 'erase', '--tenant', 'default', '--by', 'dpo@acme.example', record], env);
    expect(unconfirmed.code).toBe(64);
    expect(unconfirmed.stderr).toMatch(/cannot be undone: add --yes/);
    const erased = await run(['identity', 'erase', '--tenant', 'default', '--by', 'dpo@acme.example', '--yes', record], env);
    expect(erased.stderr).toBe('');
    expect(erased.stdout).toMatch(new RegExp(`^Erased \\d+ record\\(s\\) of ${record}: [1-9]\\d* data key\\(s\\) destroyed; recorded as ledger entry \\d+$`, 'm'));
    const exported = JSON.parse((await run(['identity', 'export', '--tenant', 'default', '--by', 'dpo@acme.example', record], env)).stdout) as { activities: { summary: string }[] };
    expect(exported.activities.length).toBeGreaterThan(0);
    expect(new Set(exported.activities.map((a) => a.summary))).toEqual(new Set(['[erased]']));
    expect((await run(['verify'], env)).code).toBe(0);
    // Nothing is a year old yet: archiving moves nothing, and says so.
    const archived = await run(['archive', '--older-than-days', '365'], env);
    expect(archived.code).toBe(0);
    expect(archived.stdout).toMatch(/^default: nothing old enough$/m);
    expect((await run(['archive', '--older-than-days', 'soon'], env)).code).toBe(64);

    const db = await openDatabase({ dataDir });
    try {
      await db.sql.transaction(async (tx) => {
        await tx.query(`alter table ledger_entry disable trigger ledger_entry_append_only`);
        await tx.query(`update ledger_entry set body = jsonb_set(body, '{kind}', '"rewritten"') where seq = 5`);
        await tx.query(`alter table ledger_entry enable trigger ledger_entry_append_only`);
      });
    } finally {
      await db.close();
    }
    const broken = await run(['verify', '--json'], env);
    expect(broken.code).toBe(1);
    const report = JSON.parse(broken.stdout) as { ok: boolean; tenants: { tenant: string; ok: boolean; verified: number; firstBreak: { seq: number; reason: string } }[] };
    expect(report.ok).toBe(false);
    expect(report.tenants[0]).toMatchObject({ tenant: 'default', ok: false, verified: 4, firstBreak: { seq: 5, reason: 'entry 5 was altered: its content does not match its hash' } });
    // A dozen commands, each a fresh process opening the embedded database.
  }, 240_000);

  it('refuses an unmigrated database with a clear message', async () => {
    const result = await run(['verify'], { LEDGERLINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'll-verify-')) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pending migrations; run `ledgerline migrate` first/);
  });
});
